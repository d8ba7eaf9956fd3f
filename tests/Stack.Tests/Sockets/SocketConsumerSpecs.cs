using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

public sealed class SocketConsumerSpecs : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly FramePool _frames = new();

    public void Dispose() => _frames.Dispose();

    [Fact]
    public async Task An_application_reading_with_await_foreach_returns_each_page_as_it_disposes_the_packet()
    {
        var consumer = new SocketConsumer("app", capacity: 16);
        for (byte i = 0; i < 10; i++)
        {
            consumer.TryDeliver(_frames.Receive(FramePool.Flow(), payloadSeed: i));
        }

        var seeds = new List<byte>();
        var outstandingWhileReading = new List<int>();
        using var timeout = new CancellationTokenSource(Patience);
        await foreach (ReceivedPacket packet in consumer.Reader.ReadAllAsync(timeout.Token))
        {
            using (packet)
            {
                seeds.Add(packet.Payload[0]);
            }

            outstandingWhileReading.Add(_frames.Outstanding);
            if (seeds.Count == 10)
            {
                consumer.Complete();
            }
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(i => (byte)i), seeds);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 9 - i), outstandingWhileReading);
        Assert.Equal(10, consumer.Delivered);
        Assert.Equal(0, consumer.DrainedAtClose);
    }

    [Fact]
    public void A_full_queue_drops_the_arriving_packet_returns_its_page_and_counts_it()
    {
        using var consumer = new SocketConsumer("slow-app", capacity: 4);

        bool[] accepted = Enumerable.Range(0, 10).Select(_ => consumer.TryDeliver(_frames.Receive(FramePool.Flow()))).ToArray();

        Assert.Equal([true, true, true, true, false, false, false, false, false, false], accepted);
        Assert.Equal(4, consumer.Delivered);
        Assert.Equal(6, consumer.DroppedQueueFull);
        Assert.Equal(4, consumer.QueuedCount);
        Assert.Equal(4, _frames.Outstanding);
    }

    [Fact]
    public void The_queue_keeps_the_oldest_packets_when_it_drops()
    {
        using var consumer = new SocketConsumer("slow-app", capacity: 2);
        for (byte i = 0; i < 5; i++)
        {
            consumer.TryDeliver(_frames.Receive(FramePool.Flow(), payloadSeed: i));
        }

        Assert.True(consumer.Reader.TryRead(out ReceivedPacket first));
        Assert.True(consumer.Reader.TryRead(out ReceivedPacket second));
        using (first)
        using (second)
        {
            Assert.Equal((0, 1), (first.Payload[0], second.Payload[0]));
        }
    }

    [Fact]
    public async Task Closing_drains_the_queued_packets_returns_their_pages_and_ends_the_readers()
    {
        var consumer = new SocketConsumer("app", capacity: 8);
        for (int i = 0; i < 5; i++)
        {
            consumer.TryDeliver(_frames.Receive(FramePool.Flow()));
        }

        consumer.Dispose();

        Assert.Equal(5, consumer.DrainedAtClose);
        Assert.Equal(0, consumer.QueuedCount);
        Assert.Equal(0, _frames.Outstanding);
        using var timeout = new CancellationTokenSource(Patience);
        Assert.Empty(await consumer.Reader.ReadAllAsync(timeout.Token).ToListAsync(timeout.Token));
    }

    [Fact]
    public void A_packet_delivered_after_close_is_refused_returned_and_counted()
    {
        var consumer = new SocketConsumer("closed-app", capacity: 8);
        consumer.Complete();

        bool accepted = consumer.TryDeliver(_frames.Receive(FramePool.Flow()));

        Assert.False(accepted);
        Assert.Equal(1, consumer.DroppedClosed);
        Assert.Equal(0, consumer.Delivered);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public async Task Closing_with_an_error_ends_the_readers_with_that_error()
    {
        var consumer = new SocketConsumer("app", capacity: 8);
        consumer.TryDeliver(_frames.Receive(FramePool.Flow()));
        var unbound = new InvalidOperationException("device unbound");

        consumer.Complete(unbound);

        using var timeout = new CancellationTokenSource(Patience);
        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(
            async () => await consumer.Reader.ReadAllAsync(timeout.Token).ToListAsync(timeout.Token));
        Assert.Same(unbound, thrown);
        Assert.Equal(1, consumer.DrainedAtClose);
        Assert.Equal(0, _frames.Outstanding);
    }

    [Fact]
    public void Delivering_a_disposed_packet_is_refused_and_counts_nothing()
    {
        using var consumer = new SocketConsumer("app", capacity: 8);
        ReceivedPacket packet = _frames.Receive(FramePool.Flow());
        packet.Dispose();

        Assert.Throws<ObjectDisposedException>(() => consumer.TryDeliver(packet));
        Assert.Equal((0, 0, 0, 0), (consumer.Delivered, consumer.DroppedQueueFull, consumer.DroppedClosed, consumer.QueuedCount));
    }

    [Fact]
    public void Delivering_a_packet_a_second_time_is_refused_and_leaves_both_sockets_as_they_were()
    {
        using var first = new SocketConsumer("first", 8);
        using var second = new SocketConsumer("second", 8);
        ReceivedPacket packet = _frames.Receive(FramePool.Flow());
        first.TryDeliver(packet);

        Assert.Throws<InvalidOperationException>(() => second.TryDeliver(packet));
        Assert.Throws<InvalidOperationException>(() => first.TryDeliver(packet));

        Assert.Equal((1, 1L), (first.QueuedCount, first.Delivered));
        Assert.Equal((0, 0L), (second.QueuedCount, second.Delivered));
        Assert.False(packet.IsDisposed);
    }

    [Fact]
    public void Delivering_the_default_packet_is_refused_and_counts_nothing()
    {
        using var consumer = new SocketConsumer("app", capacity: 8);

        Assert.Throws<ArgumentException>(() => consumer.TryDeliver(default(ReceivedPacket)));
        Assert.Equal((0, 0, 0, 0), (consumer.Delivered, consumer.DroppedQueueFull, consumer.DroppedClosed, consumer.QueuedCount));
    }

    [Fact]
    public void A_capacity_below_one_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketConsumer("app", capacity: 0));
    }

    [Fact]
    public async Task Under_concurrent_writers_a_reader_and_a_close_every_page_ends_somewhere_and_none_leaks()
    {
        const int Writers = 3;
        const int PerWriter = 2_000;
        var consumer = new SocketConsumer("busy-app", capacity: 32);
        ReceivedPacket[][] packets = Enumerable.Range(0, Writers)
            .Select(_ => Enumerable.Range(0, PerWriter).Select(_ => _frames.Receive(FramePool.Flow())).ToArray())
            .ToArray();
        long read = 0;
        Task reader = Task.Run(async () =>
        {
            await foreach (ReceivedPacket packet in consumer.Reader.ReadAllAsync())
            {
                packet.Dispose();
                read++;
            }
        });

        Task[] writers = packets.Select(batch => Task.Run(() =>
        {
            foreach (ReceivedPacket packet in batch)
            {
                consumer.TryDeliver(packet);
            }
        })).ToArray();
        Task closer = Task.Run(async () =>
        {
            await Task.WhenAll(writers.Take(2));
            consumer.Complete();
        });
        await Task.WhenAll([.. writers, closer]).WaitAsync(Patience);
        await reader.WaitAsync(Patience);

        Assert.Equal(Writers * PerWriter, consumer.Delivered + consumer.DroppedQueueFull + consumer.DroppedClosed);
        Assert.Equal(consumer.Delivered, read + consumer.DrainedAtClose);
        Assert.Equal(0, _frames.Outstanding);
        Assert.Equal(0, _frames.Pool.Destroy().StillInflight);
        Assert.Equal(0, _frames.Iommu.ViolationCount);
    }
}
