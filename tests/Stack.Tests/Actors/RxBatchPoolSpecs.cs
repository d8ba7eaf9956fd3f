using Netmem.Pool;
using Netmem.Stack.Actors;
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
        RxBatch batch = batches.Rent();
        RxFrame frame = Frame(_pool, Bound);
        batch.Add(frame);
        frame.Netmem.ReturnToPool();

        batch.Recycle();
        RxBatch again = batches.Rent();

        Assert.Same(batch, again);
        Assert.Equal(0, again.Count);
        Assert.Equal(("eth0", 3), (again.Device, again.QueueIndex));
    }

    [Fact]
    public void A_second_recycle_of_one_lending_is_refused_and_the_batch_is_free_once()
    {
        var batches = new RxBatchPool("eth0", 0);
        RxBatch batch = batches.Rent();
        batch.Recycle();

        Assert.Throws<InvalidOperationException>(() => batch.Recycle());

        Assert.Equal(1, batches.FreeCount);
        Assert.Same(batch, batches.Rent());
        Assert.NotSame(batch, batches.Rent());
    }

    [Fact]
    public void A_batch_in_the_free_list_refuses_frames()
    {
        var batches = new RxBatchPool("eth0", 0);
        RxBatch batch = batches.Rent();
        batch.Recycle();

        Assert.Throws<InvalidOperationException>(() => batch.Add(default));
        Assert.Equal(0, batch.Count);
    }

    [Fact]
    public void A_batch_holds_one_budget_of_frames_and_refuses_more()
    {
        RxBatch batch = new RxBatchPool("eth0", 0).Rent();
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
}
