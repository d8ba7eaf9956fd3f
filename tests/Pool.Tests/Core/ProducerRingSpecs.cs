using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

public sealed class ProducerRingSpecs
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    public void A_capacity_that_is_not_a_power_of_two_of_at_least_two_is_refused(int capacity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProducerRing(capacity));
    }

    [Fact]
    public void Items_come_out_in_the_order_they_went_in()
    {
        var ring = new ProducerRing(8);
        foreach (int item in new[] { 5, 3, 9, 1 })
        {
            Assert.True(ring.TryEnqueue(item));
        }

        int[] taken = new int[8];
        int count = ring.DequeueBatch(taken);

        Assert.Equal(new[] { 5, 3, 9, 1 }, taken[..count]);
        Assert.Equal(0, ring.DequeueBatch(taken));
    }

    [Fact]
    public void A_full_ring_refuses_until_the_consumer_takes_an_item()
    {
        var ring = new ProducerRing(4);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(ring.TryEnqueue(i));
        }

        Assert.False(ring.TryEnqueue(99));
        Assert.Equal(4, ring.Count);
        int[] one = new int[1];
        Assert.Equal(1, ring.DequeueBatch(one));
        Assert.Equal(0, one[0]);
        Assert.True(ring.TryEnqueue(4));
        Assert.False(ring.TryEnqueue(100));

        int[] rest = new int[8];
        Assert.Equal(4, ring.DequeueBatch(rest));
        Assert.Equal(new[] { 1, 2, 3, 4 }, rest[..4]);
        Assert.Equal(5, ring.TotalEnqueued);
    }

    [Fact]
    public void A_batch_takes_no_more_than_its_destination_holds()
    {
        var ring = new ProducerRing(128);
        for (int i = 0; i < 100; i++)
        {
            ring.TryEnqueue(i);
        }

        int[] batch = new int[64];
        Assert.Equal(64, ring.DequeueBatch(batch));
        Assert.Equal(Enumerable.Range(0, 64), batch);
        Assert.Equal(36, ring.Count);
        Assert.Equal(36, ring.DequeueBatch(batch));
        Assert.Equal(Enumerable.Range(64, 36), batch[..36]);
        Assert.Equal(128, ring.Capacity);
    }

    [Fact]
    public void The_ring_keeps_its_order_and_capacity_across_many_wrap_arounds()
    {
        var ring = new ProducerRing(4);
        int next = 0;
        int expected = 0;
        int[] batch = new int[3];
        for (int round = 0; round < 1000; round++)
        {
            while (ring.TryEnqueue(next))
            {
                next++;
            }

            int taken = ring.DequeueBatch(batch.AsSpan(0, 1 + (round % 3)));
            for (int i = 0; i < taken; i++)
            {
                Assert.Equal(expected++, batch[i]);
            }
        }

        while (ring.TryEnqueue(next))
        {
            next++;
        }

        Assert.Equal(4, ring.Count);
        Assert.Equal(3, ring.DequeueBatch(batch));
        Assert.Equal(Enumerable.Range(expected, 3), batch);
        Assert.Equal(next - expected - 3, ring.Count);
    }

    [Fact]
    public void One_producer_and_one_consumer_on_two_threads_pass_every_item_exactly_once_in_order()
    {
        const int Items = 200_000;
        var ring = new ProducerRing(64);
        int producing = 1;
        var producer = new Thread(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                SpinWait spinner = default;
                while (!ring.TryEnqueue(i))
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }

            Volatile.Write(ref producing, 0);
        });
        producer.Start();

        int[] batch = new int[64];
        int expected = 0;
        while (true)
        {
            bool finished = Volatile.Read(ref producing) == 0;
            int taken = ring.DequeueBatch(batch);
            for (int i = 0; i < taken; i++)
            {
                Assert.Equal(expected++, batch[i]);
            }

            if (finished && taken == 0)
            {
                break;
            }
        }

        producer.Join();
        Assert.Equal(Items, expected);
        Assert.Equal(0, ring.Count);
        Assert.Equal(Items, ring.TotalEnqueued);
    }
}
