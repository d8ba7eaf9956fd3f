using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Rx;
using Xunit;
using static Netmem.Stack.Tests.Actors.StackActorFixture;

namespace Netmem.Stack.Tests.Actors;

public sealed class RxBatchPoolSpecs
{
    private readonly PagePool _pool = new(new PagePoolOptions());

    [Fact]
    public void A_recycled_batch_is_rented_again_empty_instead_of_a_new_one()
    {
        var batches = new RxBatchPool("eth0", 3);
        RxBatch batch = Rent(batches);
        RxFrame frame = Frame(_pool, Bound);
        batch.Add(frame);
        frame.Netmem.ReturnToPool();

        batch.Recycle();
        RxBatch again = Rent(batches);

        Assert.Same(batch, again);
        Assert.Equal(0, again.Count);
        Assert.Equal(("eth0", 3), (again.Device, again.QueueIndex));
    }

    [Fact]
    public void A_second_recycle_of_one_lending_is_refused_and_the_batch_is_free_once()
    {
        var batches = new RxBatchPool("eth0", 0);
        RxBatch batch = Rent(batches);
        batch.Recycle();

        Assert.Throws<InvalidOperationException>(() => batch.Recycle());

        Assert.Equal(1, batches.FreeCount);
        Assert.Same(batch, Rent(batches));
        Assert.NotSame(batch, Rent(batches));
    }

    [Fact]
    public void A_batch_in_the_free_list_refuses_frames()
    {
        var batches = new RxBatchPool("eth0", 0);
        RxBatch batch = Rent(batches);
        batch.Recycle();

        Assert.Throws<InvalidOperationException>(() => batch.Add(default));
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void A_batch_holds_one_budget_of_frames_and_refuses_more()
    {
        RxBatch batch = Rent(new RxBatchPool("eth0", 0));
        for (int i = 0; i < RxBatch.MaxFrames; i++)
        {
            batch.Add(new RxFrame(default, i, 1));
        }

        Assert.True(batch.IsFull);
        Assert.Throws<InvalidOperationException>(() => batch.Add(default));
        Assert.Equal(RxBatch.MaxFrames - 1, batch.Frames[^1].Offset);
    }

    [Fact]
    public void A_standalone_batch_is_never_recycled_and_keeps_its_frames()
    {
        var batch = new RxBatch("eth0", 0, [new RxFrame(default, 7, 1), new RxFrame(default, 9, 1)]);

        batch.Recycle();
        batch.Recycle();

        Assert.Equal([7, 9], batch.Frames.ToArray().Select(f => f.Offset));
    }

    [Fact]
    public void Renting_past_the_bound_is_refused_and_the_first_batch_back_resumes_the_renter_exactly_once()
    {
        int resumed = 0;
        var batches = new RxBatchPool("eth0", 0, maxLent: 2, resume: () => Interlocked.Increment(ref resumed));
        RxBatch first = Rent(batches);
        RxBatch second = Rent(batches);

        Assert.False(batches.TryRent(out _));
        Assert.False(batches.TryRent(out _));
        Assert.Equal(0, resumed);

        first.Recycle();
        second.Recycle();

        Assert.Equal(1, resumed);
        Assert.Equal(0, batches.LentCount);
        Assert.True(batches.TryRent(out _));
    }

    [Fact]
    public void An_abandoned_batch_no_longer_counts_as_out_resumes_the_renter_and_is_never_rented_again()
    {
        int resumed = 0;
        var batches = new RxBatchPool("eth0", 0, maxLent: 1, resume: () => Interlocked.Increment(ref resumed));
        RxBatch lost = Rent(batches);
        Assert.False(batches.TryRent(out _));

        lost.Abandon();

        Assert.Equal((1, 0, 0), (resumed, batches.LentCount, batches.FreeCount));
        Assert.NotSame(lost, Rent(batches));
        Assert.Throws<InvalidOperationException>(() => lost.Recycle());
        Assert.Throws<InvalidOperationException>(() => lost.Abandon());
    }

    [Fact]
    public async Task A_renter_racing_returners_at_the_bound_is_never_left_waiting_and_is_resumed_once_per_refusal()
    {
        const int Rents = 50_000;
        var wake = new SemaphoreSlim(0);
        int resumed = 0;
        var batches = new RxBatchPool("eth0", 0, maxLent: 2, resume: () =>
        {
            Interlocked.Increment(ref resumed);
            wake.Release();
        });
        var handedOff = new System.Collections.Concurrent.BlockingCollection<RxBatch>();
        Task[] returners = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            foreach (RxBatch batch in handedOff.GetConsumingEnumerable())
            {
                batch.Recycle();
            }
        })).ToArray();

        int refused = 0;
        for (int rented = 0; rented < Rents;)
        {
            if (batches.TryRent(out RxBatch? batch))
            {
                handedOff.Add(batch);
                rented++;
                continue;
            }

            // A lost wake-up leaves this wait to time out.
            refused++;
            Assert.True(await wake.WaitAsync(TimeSpan.FromSeconds(10)), $"not resumed after refusal {refused} ({batches.LentCount} out)");
        }

        handedOff.CompleteAdding();
        await Task.WhenAll(returners);
        Assert.Equal(refused, Volatile.Read(ref resumed));
        Assert.Equal(0, batches.LentCount);
    }
}
