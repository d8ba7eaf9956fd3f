using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

/// <summary>
/// Thread numbers are process-wide, so these specs run alone: another spec's threads taking numbers at the same
/// time would take the ones these specs wait to see reused.
/// </summary>
[Collection(nameof(RecycleProducerCollection))]
public sealed class RecycleProducerSpecs
{
    private const int Threads = 32;

    [Fact]
    public void A_thread_keeps_its_number_and_living_threads_never_share_one()
    {
        int mine = RecycleProducer.AssignToCurrentThread();
        using var hold = new ManualResetEventSlim();
        var numbers = new int[8];
        Thread[] threads = Enumerable.Range(0, numbers.Length).Select(i => new Thread(() =>
        {
            numbers[i] = RecycleProducer.AssignToCurrentThread();
            hold.Wait();
        })).ToArray();
        Array.ForEach(threads, t => t.Start());
        SpinWait.SpinUntil(() => numbers.All(n => n != 0));
        hold.Set();
        Array.ForEach(threads, t => t.Join());

        Assert.Equal(mine, RecycleProducer.AssignToCurrentThread());
        Assert.Equal(mine, RecycleProducer.IdOfCurrentThread);
        Assert.DoesNotContain(0, numbers);
        Assert.Equal(numbers.Length + 1, numbers.Append(mine).Distinct().Count());
    }

    [Fact]
    public void Threads_that_come_and_go_one_at_a_time_reuse_numbers_and_their_rings()
    {
        var ring = new RecycleRing(Threads);
        for (int i = 0; i < Threads; i++)
        {
            Assert.True(ReturningThreads.OnNewThread(() => ring.TryEnqueue(i)));
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // Without reuse every thread would have added a ring; a thread's number is freed only once the runtime has
        // let go of the exited thread, which a collection usually but not always sees at once, hence "far fewer".
        Assert.True(ring.ProducerCount <= Threads / 4, $"{ring.ProducerCount} rings for {Threads} threads that never overlapped");
        Assert.Equal(Threads, ring.TotalEnqueued);
        int[] batch = new int[Threads];
        Assert.Equal(Threads, ring.DequeueBatch(batch));
        Assert.Equal(Enumerable.Range(0, Threads), batch.Order());
    }
}

[CollectionDefinition(nameof(RecycleProducerCollection), DisableParallelization = true)]
public sealed class RecycleProducerCollection;
