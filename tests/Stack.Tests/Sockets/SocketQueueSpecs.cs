using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

/// <summary>
/// <see cref="SocketQueue{T}"/> one call at a time: order, capacity, the close and what readers see of it, waits and
/// their cancellation, the drain after the close, the reusable waiter, and misuse of a wait.
/// </summary>
public sealed class SocketQueueSpecs
{
    /// <summary>Only to detect a hang: no spec waits for time to pass.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Items_come_out_in_the_order_they_were_written()
    {
        var queue = new SocketQueue<int>(capacity: 8);
        foreach (int item in new[] { 5, 3, 8, 1, 9 })
        {
            Assert.Equal(SocketQueueWrite.Queued, queue.TryWrite(item));
        }

        Assert.Equal([5, 3, 8, 1, 9], ReadAllNow(queue));
        Assert.False(queue.TryRead(out _));
    }

    [Fact]
    public void Reference_items_come_out_as_the_same_objects()
    {
        var queue = new SocketQueue<string>(capacity: 2);
        string first = new('a', 3);
        string second = new('b', 3);
        queue.TryWrite(first);
        queue.TryWrite(second);

        Assert.True(queue.TryRead(out string? readFirst));
        Assert.True(queue.TryRead(out string? readSecond));
        Assert.Same(first, readFirst);
        Assert.Same(second, readSecond);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_write_to_a_full_queue_is_refused_and_the_queued_items_stay(int capacity)
    {
        var queue = new SocketQueue<int>(capacity);
        SocketQueueWrite[] filling = Enumerable.Range(0, capacity).Select(i => queue.TryWrite(i)).ToArray();

        SocketQueueWrite beyond = queue.TryWrite(100);
        SocketQueueWrite beyondAgain = queue.TryWrite(101);

        Assert.All(filling, outcome => Assert.Equal(SocketQueueWrite.Queued, outcome));
        Assert.Equal((SocketQueueWrite.Full, SocketQueueWrite.Full), (beyond, beyondAgain));
        Assert.Equal(capacity, queue.Count);
        Assert.Equal(Enumerable.Range(0, capacity), ReadAllNow(queue));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_read_from_a_full_queue_frees_exactly_one_place(int capacity)
    {
        var queue = new SocketQueue<int>(capacity);
        for (int i = 0; i < capacity; i++)
        {
            queue.TryWrite(i);
        }

        Assert.True(queue.TryRead(out int oldest));
        SocketQueueWrite intoFreedPlace = queue.TryWrite(100);
        SocketQueueWrite beyond = queue.TryWrite(101);

        Assert.Equal(0, oldest);
        Assert.Equal((SocketQueueWrite.Queued, SocketQueueWrite.Full), (intoFreedPlace, beyond));
        Assert.Equal(Enumerable.Range(1, capacity - 1).Append(100), ReadAllNow(queue));
    }

    [Fact]
    public void The_capacity_holds_over_many_rounds_of_filling_and_emptying()
    {
        var queue = new SocketQueue<int>(capacity: 3);
        for (int round = 0; round < 1000; round++)
        {
            int queued = 0;
            for (int attempt = 0; attempt < 10 && queue.TryWrite(round) == SocketQueueWrite.Queued; attempt++)
            {
                queued++;
            }

            Assert.Equal(3, queued);
            Assert.Equal([round, round, round], ReadAllNow(queue));
        }
    }

    [Fact]
    public void Count_follows_the_writes_and_the_reads()
    {
        var queue = new SocketQueue<int>(capacity: 3);
        var counts = new List<int> { queue.Count };
        queue.TryWrite(1);
        counts.Add(queue.Count);
        queue.TryWrite(2);
        counts.Add(queue.Count);
        queue.TryWrite(3);
        counts.Add(queue.Count);
        queue.TryWrite(4);
        counts.Add(queue.Count);
        queue.TryRead(out _);
        counts.Add(queue.Count);
        queue.TryRead(out _);
        queue.TryRead(out _);
        counts.Add(queue.Count);
        queue.TryRead(out _);
        counts.Add(queue.Count);

        Assert.True(queue.CanCount);
        Assert.Equal([0, 1, 2, 3, 3, 2, 0, 0], counts);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_queue_must_hold_at_least_one_item(int capacity) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new SocketQueue<int>(capacity));

    [Fact]
    public void A_write_after_the_close_is_refused_as_closed_even_when_there_is_room()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);

        Assert.True(queue.TryComplete());
        SocketQueueWrite afterClose = queue.TryWrite(2);

        Assert.Equal(SocketQueueWrite.Closed, afterClose);
        Assert.True(queue.IsClosed);
        Assert.Equal(1, queue.Count);
        Assert.Equal([1], ReadAllNow(queue));
    }

    [Fact]
    public void A_write_to_a_closed_full_queue_is_refused_as_closed_not_full()
    {
        var queue = new SocketQueue<int>(capacity: 1);
        queue.TryWrite(1);
        queue.TryComplete();

        Assert.Equal(SocketQueueWrite.Closed, queue.TryWrite(2));
    }

    [Fact]
    public async Task A_second_close_returns_false_and_keeps_the_first_error()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        var first = new InvalidOperationException("first");

        bool firstClose = queue.TryComplete(first);
        bool secondClose = queue.TryComplete(new InvalidOperationException("second"));
        bool thirdClose = queue.TryComplete();

        Assert.Equal((true, false, false), (firstClose, secondClose, thirdClose));
        Assert.Same(first, await Assert.ThrowsAsync<InvalidOperationException>(() => queue.Completion.WaitAsync(Patience)));
    }

    [Fact]
    public async Task Completion_waits_until_the_queue_is_closed_and_empty()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);
        queue.TryWrite(2);
        queue.TryRead(out _);
        queue.TryRead(out _);
        bool completedWhileOpenAndEmpty = queue.Completion.IsCompleted;
        queue.TryWrite(3);
        queue.TryComplete();
        bool completedWhileClosedWithAnItem = queue.Completion.IsCompleted;

        Assert.True(queue.TryRead(out int last));

        await queue.Completion.WaitAsync(Patience);
        Assert.Equal((false, false, 3), (completedWhileOpenAndEmpty, completedWhileClosedWithAnItem, last));
        Assert.True(queue.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Closing_an_empty_queue_completes_it()
    {
        var queue = new SocketQueue<int>(capacity: 4);

        queue.TryComplete();

        await queue.Completion.WaitAsync(Patience);
        Assert.True(queue.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Completion_faults_with_the_close_error_once_the_queue_is_empty()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);
        var unbound = new InvalidOperationException("device unbound");
        queue.TryComplete(unbound);
        bool completedWithAnItem = queue.Completion.IsCompleted;

        queue.TryRead(out _);

        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => queue.Completion.WaitAsync(Patience));
        Assert.Same(unbound, thrown);
        Assert.False(completedWithAnItem);
        Assert.True(queue.Completion.IsFaulted);
    }

    [Fact]
    public async Task Completion_is_cancelled_when_the_close_error_is_a_cancellation()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var shutdown = new CancellationTokenSource();
        shutdown.Cancel();

        queue.TryComplete(new OperationCanceledException(shutdown.Token));

        Assert.True(queue.Completion.IsCanceled);
        OperationCanceledException thrown = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queue.Completion);
        Assert.Equal(shutdown.Token, thrown.CancellationToken);
    }

    [Fact]
    public async Task A_wait_on_a_queue_with_items_is_true_at_once()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);

        ValueTask<bool> wait = queue.WaitToReadAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(await wait);
    }

    [Fact]
    public async Task A_wait_on_a_closed_queue_that_still_has_items_is_true_at_once_even_with_a_close_error()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);
        queue.TryComplete(new InvalidOperationException("device unbound"));

        ValueTask<bool> wait = queue.WaitToReadAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.True(await wait);
    }

    [Fact]
    public async Task A_wait_on_a_closed_empty_queue_is_false_at_once()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);
        queue.TryComplete();
        queue.TryRead(out _);

        ValueTask<bool> wait = queue.WaitToReadAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        Assert.False(await wait);
    }

    [Fact]
    public async Task A_wait_on_a_queue_closed_with_an_error_and_empty_throws_that_error()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        var unbound = new InvalidOperationException("device unbound");
        queue.TryComplete(unbound);

        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () => await queue.WaitToReadAsync());

        Assert.Same(unbound, thrown);
    }

    [Fact]
    public async Task A_pending_wait_is_completed_true_by_the_next_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        ValueTask<bool> wait = queue.WaitToReadAsync();
        bool pendingBeforeTheWrite = !wait.IsCompleted;

        queue.TryWrite(7);

        Assert.True(await Within(wait));
        Assert.True(pendingBeforeTheWrite);
        Assert.True(queue.TryRead(out int item));
        Assert.Equal(7, item);
    }

    [Fact]
    public async Task A_pending_wait_is_completed_false_by_the_close()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        ValueTask<bool> wait = queue.WaitToReadAsync();

        queue.TryComplete();

        Assert.False(await Within(wait));
    }

    [Fact]
    public async Task A_pending_wait_throws_the_close_error()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        ValueTask<bool> wait = queue.WaitToReadAsync();
        var unbound = new InvalidOperationException("device unbound");

        queue.TryComplete(unbound);

        Assert.Same(unbound, await Assert.ThrowsAsync<InvalidOperationException>(() => Within(wait)));
    }

    [Fact]
    public async Task Every_pending_wait_is_woken_by_one_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var cancellable = new CancellationTokenSource();
        ValueTask<bool> reusable = queue.WaitToReadAsync();
        ValueTask<bool> secondUncancellable = queue.WaitToReadAsync();
        ValueTask<bool> withToken = queue.WaitToReadAsync(cancellable.Token);

        queue.TryWrite(1);

        bool[] woken = await Task.WhenAll(reusable.AsTask(), secondUncancellable.AsTask(), withToken.AsTask()).WaitAsync(Patience);
        Assert.Equal([true, true, true], woken);
        Assert.Equal([1], ReadAllNow(queue));
    }

    [Fact]
    public async Task A_woken_reader_resumes_on_the_thread_pool_not_inside_the_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        Task<int> resumedOn = ResumedOnAsync(queue.WaitToReadAsync());
        var writerThread = new StrongBox<int>();
        var writer = new Thread(() => WriteAndStayUntil(queue, resumedOn, writerThread));

        writer.Start();

        int readerThread = await resumedOn.WaitAsync(Patience);
        writer.Join();
        Assert.NotEqual(writerThread.Value, readerThread);
    }

    [Fact]
    public async Task ReadAsync_returns_the_queued_items_then_the_next_written_one()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);
        queue.TryWrite(2);

        int first = await Within(queue.ReadAsync());
        int second = await Within(queue.ReadAsync());
        ValueTask<int> third = queue.ReadAsync();
        bool thirdPending = !third.IsCompleted;
        queue.TryWrite(3);

        Assert.Equal((1, 2, true, 3), (first, second, thirdPending, await Within(third)));
    }

    [Fact]
    public async Task ReadAsync_on_a_closed_empty_queue_throws_ChannelClosedException()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryComplete();

        ChannelClosedException thrown = await Assert.ThrowsAsync<ChannelClosedException>(async () => await queue.ReadAsync());

        Assert.Null(thrown.InnerException);
    }

    [Fact]
    public async Task ReadAsync_on_a_queue_closed_with_an_error_throws_ChannelClosedException_around_it()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        var unbound = new InvalidOperationException("device unbound");
        queue.TryComplete(unbound);

        ChannelClosedException thrown = await Assert.ThrowsAsync<ChannelClosedException>(async () => await queue.ReadAsync());

        Assert.Same(unbound, thrown.InnerException);
    }

    [Fact]
    public async Task A_pending_ReadAsync_throws_ChannelClosedException_when_the_queue_closes()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        ValueTask<int> read = queue.ReadAsync();
        var unbound = new InvalidOperationException("device unbound");

        queue.TryComplete(unbound);

        ChannelClosedException thrown = await Assert.ThrowsAsync<ChannelClosedException>(() => Within(read));
        Assert.Same(unbound, thrown.InnerException);
    }

    [Fact]
    public async Task ReadAsync_still_returns_the_items_queued_before_the_close()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);
        queue.TryComplete(new InvalidOperationException("device unbound"));

        Assert.Equal(1, await Within(queue.ReadAsync()));
        await Assert.ThrowsAsync<ChannelClosedException>(async () => await queue.ReadAsync());
    }

    [Fact]
    public async Task ReadAllAsync_yields_every_item_then_ends_at_the_close()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var timeout = new CancellationTokenSource(Patience);
        var read = new List<int>();
        int next = 0;
        for (; next < 3; next++)
        {
            queue.TryWrite(next);
        }

        await foreach (int item in queue.ReadAllAsync(timeout.Token))
        {
            read.Add(item);
            if (next < 10)
            {
                queue.TryWrite(next++);
            }
            else if (read.Count == 10)
            {
                queue.TryComplete();
            }
        }

        Assert.Equal(Enumerable.Range(0, 10), read);
        Assert.True(queue.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ReadAllAsync_yields_the_items_queued_before_the_close_then_throws_the_close_error()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var timeout = new CancellationTokenSource(Patience);
        queue.TryWrite(1);
        queue.TryWrite(2);
        var unbound = new InvalidOperationException("device unbound");
        queue.TryComplete(unbound);
        var read = new List<int>();

        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (int item in queue.ReadAllAsync(timeout.Token))
            {
                read.Add(item);
            }
        });

        Assert.Same(unbound, thrown);
        Assert.Equal([1, 2], read);
    }

    [Fact]
    public async Task A_cancelled_token_cancels_a_pending_wait_and_the_next_wait_completes_on_a_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var cancel = new CancellationTokenSource();
        ValueTask<bool> cancelled = queue.WaitToReadAsync(cancel.Token);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(cancelled));
        ValueTask<bool> next = queue.WaitToReadAsync();
        ValueTask<bool> nextWithToken = queue.WaitToReadAsync(CancellationToken.None);
        queue.TryWrite(1);
        Assert.True(await Within(next));
        Assert.True(await Within(nextWithToken));
        Assert.Equal([1], ReadAllNow(queue));
    }

    [Fact]
    public async Task Cancelling_one_wait_leaves_the_other_waits_pending_until_a_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var cancelFirst = new CancellationTokenSource();
        using var keepSecond = new CancellationTokenSource();
        ValueTask<bool> first = queue.WaitToReadAsync(cancelFirst.Token);
        ValueTask<bool> second = queue.WaitToReadAsync(keepSecond.Token);
        ValueTask<bool> uncancellable = queue.WaitToReadAsync();

        cancelFirst.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(first));
        bool othersPendingAfterTheCancel = !second.IsCompleted && !uncancellable.IsCompleted;
        queue.TryWrite(1);

        Assert.True(othersPendingAfterTheCancel);
        Assert.True(await Within(second));
        Assert.True(await Within(uncancellable));
    }

    [Fact]
    public async Task Cancelling_a_token_after_its_wait_completed_changes_nothing()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var cancel = new CancellationTokenSource();
        ValueTask<bool> wait = queue.WaitToReadAsync(cancel.Token);
        queue.TryWrite(1);
        bool woken = await Within(wait);

        cancel.Cancel();

        Assert.True(woken);
        Assert.True(queue.TryRead(out int item));
        Assert.Equal(1, item);
        ValueTask<bool> next = queue.WaitToReadAsync();
        queue.TryWrite(2);
        Assert.True(await Within(next));
    }

    [Fact]
    public async Task An_already_cancelled_token_cancels_a_wait_and_a_read_at_once_even_with_items_queued()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        queue.TryWrite(1);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        ValueTask<bool> wait = queue.WaitToReadAsync(cancel.Token);
        ValueTask<int> read = queue.ReadAsync(cancel.Token);

        Assert.True(wait.IsCanceled);
        Assert.True(read.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await wait);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await read);
        Assert.Equal([1], ReadAllNow(queue));
    }

    [Fact]
    public async Task A_cancelled_pending_ReadAsync_throws_a_cancellation_and_takes_no_item()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        using var cancel = new CancellationTokenSource();
        ValueTask<int> read = queue.ReadAsync(cancel.Token);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Within(read));
        queue.TryWrite(1);
        Assert.Equal([1], ReadAllNow(queue));
    }

    [Fact]
    public async Task DrainAfterClose_hands_every_queued_item_exactly_once_and_completes_the_queue()
    {
        var queue = new SocketQueue<int>(capacity: 8);
        for (int i = 0; i < 5; i++)
        {
            queue.TryWrite(i);
        }

        queue.TryRead(out int readBeforeTheClose);
        queue.TryComplete();
        var drained = new List<int>();

        queue.DrainAfterClose(drained.Add);
        var drainedAgain = new List<int>();
        queue.DrainAfterClose(drainedAgain.Add);

        Assert.Equal(0, readBeforeTheClose);
        Assert.Equal([1, 2, 3, 4], drained);
        Assert.Empty(drainedAgain);
        Assert.Equal(0, queue.Count);
        Assert.False(queue.TryRead(out _));
        await queue.Completion.WaitAsync(Patience);
    }

    [Fact]
    public async Task DrainAfterClose_of_an_empty_queue_hands_nothing()
    {
        var queue = new SocketQueue<int>(capacity: 8);
        queue.TryComplete();
        var drained = new List<int>();

        queue.DrainAfterClose(drained.Add);

        Assert.Empty(drained);
        await queue.Completion.WaitAsync(Patience);
    }

    [Fact]
    public async Task Many_successive_waits_that_cannot_be_cancelled_are_each_completed_by_a_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        var read = new List<int>();
        int pendingWaits = 0;
        for (int i = 0; i < 2000; i++)
        {
            ValueTask<bool> wait = queue.WaitToReadAsync();
            pendingWaits += wait.IsCompleted ? 0 : 1;
            queue.TryWrite(i);
            Assert.True(await Within(wait));
            Assert.True(queue.TryRead(out int item));
            read.Add(item);
        }

        Assert.Equal(2000, pendingWaits);
        Assert.Equal(Enumerable.Range(0, 2000), read);
    }

    [Fact]
    public async Task Many_successive_reads_that_wait_are_each_completed_by_a_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        var read = new List<int>();
        for (int i = 0; i < 2000; i++)
        {
            ValueTask<int> pending = queue.ReadAsync();
            queue.TryWrite(i);
            read.Add(await Within(pending));
        }

        Assert.Equal(Enumerable.Range(0, 2000), read);
    }

    [Fact]
    public async Task Awaiting_the_same_wait_twice_is_refused_and_later_waits_still_work()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        ValueTask<bool> wait = queue.WaitToReadAsync();
        queue.TryWrite(1);
        Assert.True(await Within(wait));
        queue.TryRead(out _);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await wait);
        ValueTask<bool> later = queue.WaitToReadAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await wait);
        bool laterPending = !later.IsCompleted;
        queue.TryWrite(2);

        Assert.True(laterPending);
        Assert.True(await Within(later));
        Assert.True(queue.TryRead(out int item));
        Assert.Equal(2, item);
        for (int i = 0; i < 10; i++)
        {
            ValueTask<bool> next = queue.WaitToReadAsync();
            queue.TryWrite(i);
            Assert.True(await Within(next));
            queue.TryRead(out _);
        }
    }

    [Fact]
    public async Task Asking_a_pending_wait_for_its_result_is_refused_and_the_wait_still_completes_on_the_next_write()
    {
        var queue = new SocketQueue<int>(capacity: 4);
        ValueTask<bool> wait = queue.WaitToReadAsync();

        Assert.Throws<InvalidOperationException>(() => ResultNow(wait));
        ValueTask<bool> second = queue.WaitToReadAsync();
        bool secondPending = !second.IsCompleted;
        queue.TryWrite(1);

        Assert.True(secondPending);
        Assert.True(await Within(wait));
        Assert.True(await Within(second));
        Assert.Equal([1], ReadAllNow(queue));
        ValueTask<bool> third = queue.WaitToReadAsync();
        bool thirdPending = !third.IsCompleted;
        queue.TryWrite(2);
        Assert.True(thirdPending);
        Assert.True(await Within(third));
    }

    private static List<int> ReadAllNow(SocketQueue<int> queue)
    {
        var read = new List<int>();
        while (queue.TryRead(out int item))
        {
            read.Add(item);
        }

        return read;
    }

    private static Task<T> Within<T>(ValueTask<T> pending) => pending.AsTask().WaitAsync(Patience);

    /// <summary>The misuse under test: reading a wait's result without awaiting it.</summary>
    private static bool ResultNow(ValueTask<bool> wait) => wait.Result;

    /// <summary>The writer stays alive until the reader resumed, so that their thread ids cannot be one reused id.</summary>
    private static void WriteAndStayUntil(SocketQueue<int> queue, Task resumed, StrongBox<int> writerThread)
    {
        writerThread.Value = Environment.CurrentManagedThreadId;
        queue.TryWrite(1);
        resumed.Wait(Patience);
    }

    private static async Task<int> ResumedOnAsync(ValueTask<bool> wait)
    {
        await wait.ConfigureAwait(false);
        return Environment.CurrentManagedThreadId;
    }
}
