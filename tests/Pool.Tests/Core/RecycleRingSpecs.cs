using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

public sealed class RecycleRingSpecs
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void A_capacity_that_is_not_a_power_of_two_of_at_least_two_is_refused(int capacity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RecycleRing(capacity));
    }

    [Fact]
    public void Each_thread_that_enqueues_has_a_ring_of_its_own_of_the_configured_size()
    {
        var ring = new RecycleRing(4);
        bool[] first = [];
        bool[] second = [];

        ReturningThreads.AliveTogether(
            () => first = Enumerable.Range(0, 5).Select(ring.TryEnqueue).ToArray(),
            () => second = Enumerable.Range(10, 5).Select(ring.TryEnqueue).ToArray());

        Assert.Equal([true, true, true, true, false], first);
        Assert.Equal([true, true, true, true, false], second);
        Assert.Equal(2, ring.ProducerCount);
        Assert.Equal(8, ring.TotalEnqueued);
        Assert.Equal(8, ring.Count);
        int[] batch = new int[16];
        Assert.Equal(8, ring.DequeueBatch(batch));
        Assert.Equal([0, 1, 2, 3, 10, 11, 12, 13], batch[..8].Order());
        Assert.Equal(0, ring.Count);
    }

    [Fact]
    public void A_drain_starts_at_the_ring_after_the_one_the_last_drain_stopped_at()
    {
        var ring = new RecycleRing(128);
        ReturningThreads.AliveTogether(
            () => Assert.True(Enumerable.Range(0, 100).All(ring.TryEnqueue)),
            () => Assert.True(Enumerable.Range(1000, 100).All(ring.TryEnqueue)));
        int[] batch = new int[64];

        Assert.Equal(64, ring.DequeueBatch(batch));
        bool firstFromLow = batch[0] < 1000;
        Assert.All(batch, item => Assert.Equal(firstFromLow, item < 1000));
        Assert.Equal(64, ring.DequeueBatch(batch));
        Assert.All(batch, item => Assert.Equal(firstFromLow, item >= 1000));

        // The rest: 36 from each, each thread's items in its own order.
        int[] rest = new int[128];
        Assert.Equal(72, ring.DequeueBatch(rest));
        Assert.Equal(36, rest[..72].Count(item => item < 1000));
        Assert.Equal(rest[..72].Where(item => item < 1000), rest[..72].Where(item => item < 1000).Order());
        Assert.Equal(0, ring.DequeueBatch(rest));
    }

    [Fact]
    public void Items_left_in_the_ring_of_a_thread_that_has_exited_are_still_drained()
    {
        var ring = new RecycleRing(8);
        Assert.True(ReturningThreads.OnNewThread(() => Enumerable.Range(0, 5).All(ring.TryEnqueue)));

        int[] batch = new int[8];
        Assert.Equal(5, ring.DequeueBatch(batch));
        Assert.Equal(Enumerable.Range(0, 5), batch[..5]);
    }

    [Fact]
    public void Items_from_many_threads_come_out_exactly_once_each_in_its_threads_order()
    {
        const int Producers = 4;
        const int ItemsEach = 50_000;
        var ring = new RecycleRing(256);
        int[] seen = new int[Producers * ItemsEach];
        int[] lastFromProducer = Enumerable.Repeat(-1, Producers).ToArray();
        int producing = Producers;

        Thread[] producers = Enumerable.Range(0, Producers).Select(p => new Thread(() =>
        {
            for (int i = 0; i < ItemsEach; i++)
            {
                SpinWait spinner = default;
                while (!ring.TryEnqueue((p * ItemsEach) + i))
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }

            Interlocked.Decrement(ref producing);
        })).ToArray();
        foreach (Thread producer in producers)
        {
            producer.Start();
        }

        int[] batch = new int[64];
        long received = 0;
        while (true)
        {
            bool finished = Volatile.Read(ref producing) == 0;
            int taken = ring.DequeueBatch(batch);
            for (int i = 0; i < taken; i++)
            {
                int item = batch[i];
                seen[item]++;
                int producer = item / ItemsEach;
                Assert.True(item > lastFromProducer[producer], $"item {item} after {lastFromProducer[producer]}");
                lastFromProducer[producer] = item;
            }

            received += taken;
            if (finished && taken == 0)
            {
                break;
            }
        }

        foreach (Thread producer in producers)
        {
            producer.Join();
        }

        Assert.Equal(Producers * ItemsEach, received);
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Equal(0, ring.Count);
        Assert.Equal(Producers * ItemsEach, ring.TotalEnqueued);
        Assert.Equal(Producers, ring.ProducerCount);
    }
}
