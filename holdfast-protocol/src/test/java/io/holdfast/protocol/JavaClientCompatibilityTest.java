package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.impl.AMQContentHeader;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.ValueWriter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Checks our codec against the RabbitMQ Java client's, the reference most AMQP clients agree with. */
class JavaClientCompatibilityTest {
    /**
     * The tags whose values the client reads and writes back unchanged: it has no unsigned types,
     * turns NaN payloads canonical, and keeps timestamps as milliseconds in a long.
     */
    private static final String CLIENT_EXACT_TAGS = "tbsIlDSFAVx";

    static List<Class<? extends Method>> methodTypes() {
        return SampleValues.methodTypes();
    }

    @ParameterizedTest
    @MethodSource("methodTypes")
    void clientReadsEveryMethodWeWriteAndWritesItBackAlike(Class<? extends Method> type) throws IOException {
        Random random = new Random(type.getName().hashCode());
        for (int i = 0; i < 4; i++) {
            Method sent = SampleValues.method(type, random, CLIENT_EXACT_TAGS);
            ByteBuf ours = Unpooled.buffer();
            sent.encode(ours);

            com.rabbitmq.client.impl.Method theirs = AMQImpl.readMethodFrom(input(ByteBufUtil.getBytes(ours)));
            Method back = Method.decode(Unpooled.wrappedBuffer(theirs.toFrame(0).getPayload()));

            // Equal values, not bytes: the client keeps tables in a HashMap, so their order changes.
            assertThat(back).usingRecursiveComparison().withStrictTypeChecking().isEqualTo(sent);
        }
    }

    @Test
    void tableWrittenByTheClientReadsAsOurTypesAndWritesTheSameBytes() throws IOException {
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("count", 2L);
        nested.put("time", new Date(1_700_000_000_000L));
        Map<String, Object> table = new LinkedHashMap<>();
        table.put("string", "héllo");
        table.put("int", -5);
        table.put("long", 1L << 40);
        table.put("short", (short) -2);
        table.put("byte", (byte) 7);
        table.put("bool", true);
        table.put("float", 1.25f);
        table.put("double", -0.5);
        table.put("decimal", new BigDecimal("3.14"));
        table.put("bytes", new byte[] {1, 2});
        table.put("void", null);
        table.put("list", new ArrayList<>(List.of(nested, "x")));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ValueWriter writer = new ValueWriter(new DataOutputStream(bytes));
        writer.writeTable(table);
        writer.flush();
        byte[] wire = bytes.toByteArray();

        Map<String, Object> read = FieldTable.read(Unpooled.wrappedBuffer(wire));

        ByteBuf again = Unpooled.buffer();
        FieldTable.write(again, read);
        assertThat(ByteBufUtil.getBytes(again)).isEqualTo(wire);
        assertThat(read.get("string")).isEqualTo(LongString.of("héllo"));
        assertThat(read.get("short")).isEqualTo((short) -2);
        assertThat(((Map<?, ?>) ((List<?>) read.get("list")).get(0)).get("time")).isEqualTo(new Timestamp(1_700_000_000L));
    }

    @Test
    void propertiesWrittenByTheClientDecodeAndWriteTheSameBytes() throws IOException {
        Map<String, Object> headers = new LinkedHashMap<>();
        headers.put("x-retries", 3);
        headers.put("x-trace", List.of("a", "b"));
        AMQP.BasicProperties theirs = new AMQP.BasicProperties.Builder().contentType("application/json")
                .contentEncoding("utf-8").headers(headers).deliveryMode(2).priority(5).correlationId("c-1")
                .replyTo("replies").expiration("1000").messageId("m-1").timestamp(new Date(1_700_000_000_000L))
                .type("event").userId("guest").appId("app").clusterId("cluster").build();
        byte[] payload = theirs.toFrame(1, 42).getPayload();

        ContentHeader header = ContentHeader.decode(Unpooled.wrappedBuffer(payload));
        BasicProperties ours = BasicProperties.decode(header.rawProperties());

        assertThat(header.bodySize()).isEqualTo(42);
        assertThat(ours.encode()).isEqualTo(header.rawProperties());
        assertThat(ours.contentType()).isEqualTo("application/json");
        assertThat(ours.deliveryMode()).isEqualTo(2);
        assertThat(ours.timestamp()).isEqualTo(1_700_000_000L);
        assertThat(ours.clusterId()).isEqualTo("cluster");
        assertThat(FieldTable.getLong(ours.headers(), "x-retries")).isEqualTo(3L);
    }

    @Test
    void clientReadsPropertiesWeWrite() throws IOException {
        Map<String, Object> headers = SampleValues.table(new Random(5), 0, CLIENT_EXACT_TAGS);
        BasicProperties ours = new BasicProperties("text/plain", null, headers, 1, null, "c", null, null, "m",
                1_700_000_000L, null, null, "app", null);
        ByteBuf payload = Unpooled.buffer();
        payload.writeShort(60).writeShort(0).writeLong(7).writeBytes(ours.encode());
        byte[] wire = ByteBufUtil.getBytes(payload);

        AMQContentHeader theirs = AMQImpl.readContentHeaderFrom(input(wire));

        ContentHeader back = ContentHeader.decode(Unpooled.wrappedBuffer(theirs.toFrame(0, 7).getPayload()));
        assertThat(BasicProperties.decode(back.rawProperties())).usingRecursiveComparison().isEqualTo(ours);
        AMQP.BasicProperties p = (AMQP.BasicProperties) theirs;
        assertThat(p.getContentType()).isEqualTo("text/plain");
        assertThat(p.getDeliveryMode()).isEqualTo(1);
        assertThat(p.getTimestamp()).isEqualTo(new Date(1_700_000_000_000L));
    }

    private static DataInputStream input(byte[] bytes) {
        return new DataInputStream(new ByteArrayInputStream(bytes));
    }
}
