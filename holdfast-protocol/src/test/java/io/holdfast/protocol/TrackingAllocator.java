package io.holdfast.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it made, so a test can prove that all were released:
 * a deterministic leak check, where Netty's leak detector only reports after a garbage collection.
 * Use it for the test's own input buffers and as the channel's allocator (for the cumulation).
 */
final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> buffers = new ArrayList<>();

    TrackingAllocator() {
        super(false);
    }

    /** A channel whose buffers (the decoder's cumulation included) come from this allocator. */
    EmbeddedChannel channel(FrameDecoder decoder) {
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.config().setAllocator(this);
        return channel;
    }

    ByteBuf copyOf(byte[] bytes, int offset, int length) {
        return heapBuffer(length).writeBytes(bytes, offset, length);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private ByteBuf track(ByteBuf buf) {
        buffers.add(buf);
        return buf;
    }

    /** The largest buffer made, to show that memory follows the input, not declared lengths. */
    int largestCapacity() {
        return buffers.stream().mapToInt(ByteBuf::capacity).max().orElse(0);
    }

    void assertAllReleased() {
        assertThat(buffers).as("buffers still referenced").allMatch(b -> b.refCnt() == 0);
    }
}
