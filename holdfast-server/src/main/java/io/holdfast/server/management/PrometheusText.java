package io.holdfast.server.management;

/**
 * Writes metrics in the Prometheus text exposition format, version 0.0.4: a {@code # HELP} and a
 * {@code # TYPE} line per metric family, then its samples. Label values are escaped as the format
 * requires (backslash, double quote, line feed), and so is help text (backslash, line feed). One
 * instance per scrape; not thread-safe.
 */
final class PrometheusText {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final StringBuilder out = new StringBuilder();

    /** Starts a family; {@code type} is {@code gauge} or {@code counter}. */
    PrometheusText family(String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ');
        escape(help, false);
        out.append("\n# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** A family with one unlabelled sample. */
    PrometheusText single(String name, String type, String help, long value) {
        return family(name, type, help).sample(name, value);
    }

    /** One sample; {@code labels} alternate name and value: {@code "vhost", "/", "queue", "q"}. */
    PrometheusText sample(String name, long value, String... labels) {
        out.append(name);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels[i]).append("=\"");
                escape(labels[i + 1], true);
                out.append('"');
            }
            out.append('}');
        }
        out.append(' ').append(value).append('\n');
        return this;
    }

    @Override
    public String toString() {
        return out.toString();
    }

    private void escape(String s, boolean labelValue) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\') {
                out.append("\\\\");
            } else if (c == '\n') {
                out.append("\\n");
            } else if (c == '"' && labelValue) {
                out.append("\\\"");
            } else {
                out.append(c);
            }
        }
    }
}
