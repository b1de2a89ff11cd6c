package io.holdfast.server.management;

import com.fasterxml.jackson.databind.JsonNode;
import io.holdfast.server.auth.AccessControl;
import io.holdfast.server.auth.AccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RabbitMQ's definitions API: {@code GET /api/definitions} and {@code GET /api/definitions/{vhost}} export,
 * {@code POST /api/definitions} and {@code POST /api/definitions/{vhost}} import (204 once applied; 400 naming
 * the entry and what is wrong, with nothing applied). See {@link Definitions}. Holdfast's own
 * {@code GET /api/holdfast/definitions/import}: how far the import under way has got ({@link ImportProgress}).
 * Administrators only; handler threads.
 */
final class DefinitionsApi {
    private static final Logger log = LoggerFactory.getLogger(DefinitionsApi.class);

    private final Definitions definitions;

    DefinitionsApi(Definitions definitions) {
        this.definitions = definitions;
    }

    void addTo(Routes routes) {
        routes.add("GET", "/api/definitions", Routes.Access.ADMIN, r -> ManagementHttp.json(200,
                        definitions.export(null)))
                .add("GET", "/api/definitions/{vhost}", Routes.Access.ADMIN, r -> TopologyApi.answering(() -> {
                    if (!definitions.vhostExists(r.variable(0))) {
                        return ManagementApi.notFound();
                    }
                    return ManagementHttp.json(200, definitions.export(r.variable(0)));
                }))
                .add("GET", "/api/holdfast/definitions/import", Routes.Access.ADMIN,
                        r -> ManagementHttp.json(200, definitions.progress().view()))
                .add("POST", "/api/definitions", Routes.Access.ADMIN, r -> load(r, null))
                .add("POST", "/api/definitions/{vhost}", Routes.Access.ADMIN, r -> load(r, r.variable(0)));
    }

    private Routes.Response load(Routes.Request r, String vhost) throws Exception {
        JsonNode body = ManagementHttp.body(r);
        return TopologyApi.answering(() -> {
            try {
                Definitions.Plan plan = definitions.plan(body, vhost);
                definitions.apply(plan, new AccessControl.Actor(r.user(), r.peer()));
                log.info("imported definitions from {} at {}: {}", r.user(), r.peer(), plan.summary());
            } catch (Definitions.Invalid e) {
                return ManagementHttp.error(400, "bad_request", e.getMessage());
            } catch (AccessException e) {
                return ManagementHttp.error(500, "internal_error", "users, vhosts or permissions could not be stored "
                        + "(the queues, exchanges and bindings were applied): " + e.getMessage());
            }
            return Routes.Response.of(204, ManagementHttp.JSON, "");
        });
    }
}
