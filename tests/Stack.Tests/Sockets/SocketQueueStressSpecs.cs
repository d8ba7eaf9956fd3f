using System.Threading.Channels;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

/// <summary>
/// <see cref="SocketQueue{T}"/> under many threads: writers that never wait against readers that poll, sleep in
/// <c>WaitToReadAsync</c> or read with <c>ReadAllAsync</c>, with and without a close while they run. Each item
/// written carries its own id, so what is read is checked item by item. Timeouts only detect a hang (a lost
/// wake-up); nothing measures time.
/// </summary>
public sealed class SocketQueueStressSpecs
{
    private const int Capacity = 64;
    private const int Writers = 4;
    private const int Readers = 3;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    public enum ReaderKind
    {
        /// <summary>TryRead in a loop, never waiting.</summary>
        Polling,

        /// <summary>TryRead in a loop, never waiting, until the queue is closed.</summary>
        PollingUntilClosed,

        /// <summary>WaitToReadAsync, then TryRead until empty.</summary>
        Waiting,

        /// <summary>await foreach over ReadAllAsync.</summary>
        ReadingAll,

        /// <summary>ReadAsync, one item at a time, until the queue is closed.</summary>
        ReadingOneByOne,
    }

    [Fact]
    public async Task Many_writers_and_readers_pass_every_queued_item_exactly_once_and_never_a_refused_one()
    {
        const int rounds = 10;
        const int attemptsPerWriter = 20_000;
        long fullOverAllRounds = 0;
        for (int round = 0; round < rounds; round++)
        {
            var run = new Run(attemptsPerWriter);

            Task[] readers = [run.ReadAsync(ReaderKind.Polling), run.ReadAsync(ReaderKind.Waiting), run.ReadAsync(ReaderKind.ReadingAll)];
            Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => run.WriteAsync(w, stopAtClose: false))];
            await Task.WhenAll(writers).WaitAsync(Patience);
            bool closed = run.Queue.TryComplete();
            await Task.WhenAll(readers).WaitAsync(Patience);

            Assert.True(closed);
            await run.Queue.Completion.WaitAsync(Patience);
            run.AssertEveryQueuedItemReadOnce(drained: null);
            Assert.Equal(0, run.OutcomeCount(SocketQueueWrite.Closed));
            Assert.Equal(0, run.CapacityBreaches);
            Assert.True(run.OutcomeCount(SocketQueueWrite.Queued) > 0, "no write was queued");
            fullOverAllRounds += run.OutcomeCount(SocketQueueWrite.Full);
        }

        Assert.True(fullOverAllRounds > 0, "no write ever met a full queue: the run did not exercise the capacity");
    }

    [Fact]
    public void Writers_racing_for_the_last_free_places_never_overfill_the_queue()
    {
        // No reader runs while the writers race, so the capacity is exact: the writes queued in a round are exactly
        // the places the round began with, however the writers' compare-and-swaps on the counter interleave.
        const int rounds = 5000;
        const int attemptsPerWriter = 4;
        var queue = new SocketQueue<int>(Capacity);
        for (int i = 0; i < Capacity; i++)
        {
            Assert.Equal(SocketQueueWrite.Queued, queue.TryWrite(i));
        }

        using var barrier = new Barrier(Writers + 1);
        int[] queuedThisRound = new int[Writers];
        int stop = 0;
        var writers = Enumerable.Range(0, Writers).Select(w => new Thread(() =>
        {
            while (barrier.SignalAndWait(Patience) && Volatile.Read(ref stop) == 0)
            {
                int queued = 0;
                for (int attempt = 0; attempt < attemptsPerWriter; attempt++)
                {
                    queued += queue.TryWrite(w) == SocketQueueWrite.Queued ? 1 : 0;
                }

                queuedThisRound[w] = queued;
                barrier.SignalAndWait(Patience);
            }
        })).ToList();
        writers.ForEach(writer => writer.Start());

        var wrongRounds = new List<string>();
        for (int round = 0; round < rounds; round++)
        {
            int free = 1 + (round % 3);
            int read = 0;
            while (read < free && queue.TryRead(out _))
            {
                read++;
            }

            Assert.True(barrier.SignalAndWait(Patience), "the writers did not start the round");
            Assert.True(barrier.SignalAndWait(Patience), "the writers did not end the round");
            int queued = queuedThisRound.Sum();
            if (read != free || queued != free || queue.Count != Capacity)
            {
                wrongRounds.Add($"round {round}: {read} read, {queued} queued into {free} free places, count {queue.Count}");
            }
        }

        Volatile.Write(ref stop, 1);
        barrier.SignalAndWait(Patience);
        writers.ForEach(writer => writer.Join(Patience));
        Assert.Empty(wrongRounds);
    }

    [Theory]
    [InlineData(ReaderKind.Waiting, false)]
    [InlineData(ReaderKind.Waiting, true)]
    [InlineData(ReaderKind.ReadingAll, false)]
    [InlineData(ReaderKind.ReadingOneByOne, false)]
    public async Task A_reader_that_sleeps_is_always_woken_by_the_next_write(ReaderKind kind, bool cancellable)
    {
        // One writer writes its next item only once the one reader has read the previous one, so the reader finds
        // the queue empty and goes to sleep again and again, racing the next write (the writer waits a varying few
        // spins first, to sweep the race). A reader that slept past a write would leave the writer waiting for good:
        // no later write and no close comes to rescue it, and no other reader to take the item.
        const int rounds = 4;
        const int items = 2_000;
        for (int round = 0; round < rounds; round++)
        {
            var run = new Run(items);

            Task reader = run.ReadAsync(kind, cancellable);
            await run.WriteOneAtATimeAsync(writer: 0).WaitAsync(Patience);
            run.Queue.TryComplete();
            await reader.WaitAsync(Patience);

            run.AssertEveryQueuedItemReadOnce(drained: null);
            Assert.Equal(items, run.OutcomeCount(SocketQueueWrite.Queued));
        }
    }

    [Fact]
    public async Task Closing_while_writers_and_readers_run_loses_no_item_and_refuses_every_write_after_it()
    {
        // The last writer closes the queue itself after some of its writes, so the close always lands while the
        // other writers and the readers run; every writer stops at its first write refused as closed.
        const int rounds = 20;
        const int attemptsPerWriter = 100_000;
        const int closeAfter = 5_000;
        for (int round = 0; round < rounds; round++)
        {
            Exception? closeError = round % 2 == 0 ? null : new InvalidOperationException($"closed in round {round}");
            var run = new Run(attemptsPerWriter, closeError);

            // In half the rounds the readers stop as soon as they see the close, so that the drain alone takes what
            // is left, including the items of writes that took their place before the close and land after it.
            Task[] readers = round % 4 < 2
                ? [run.ReadAsync(ReaderKind.Polling), run.ReadAsync(ReaderKind.Waiting), run.ReadAsync(ReaderKind.ReadingAll)]
                : [run.ReadAsync(ReaderKind.PollingUntilClosed), run.ReadAsync(ReaderKind.PollingUntilClosed)];
            Task[] writers = [.. Enumerable.Range(0, Writers).Select(w => run.WriteAsync(w, stopAtClose: true, closeAfter: w == Writers - 1 ? closeAfter : null))];
            await run.Closed.WaitAsync(Patience);
            var drained = new List<int>();
            run.Queue.DrainAfterClose(drained.Add);
            await Task.WhenAll(writers).WaitAsync(Patience);
            await Task.WhenAll(readers).WaitAsync(Patience);

            run.AssertEveryQueuedItemReadOnce(drained);
            Assert.Equal(0, run.CapacityBreaches);
            Assert.Equal(0, run.ClosedBeforeTheClose);
            Assert.Equal(0, run.AcceptedAfterTheClose);
            Assert.True(run.OutcomeCount(SocketQueueWrite.Closed) > 0, "no write met the closed queue");
            Assert.Equal(0, run.Queue.Count);
            Task completion = run.Queue.Completion;
            if (closeError is null)
            {
                await completion.WaitAsync(Patience);
            }
            else
            {
                Assert.Same(closeError, await Assert.ThrowsAsync<InvalidOperationException>(() => completion.WaitAsync(Patience)));
            }
        }
    }

    /// <summary>One round: the queue, every write's outcome by item id, and how often each id was read.</summary>
    private sealed class Run(int attemptsPerWriter, Exception? closeError = null)
    {
        private const int NotAttempted = -1;

        private readonly int[] _outcomes = [.. Enumerable.Repeat(NotAttempted, Writers * attemptsPerWriter)];
        private readonly int[] _reads = new int[Writers * attemptsPerWriter];
        private long _queuedCount;
        private long _readCount;
        private int _closeStarted;
        private int _closeReturned;
        private int _capacityBreaches;
        private int _closedBeforeTheClose;
        private int _acceptedAfterTheClose;
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SocketQueue<int> Queue { get; } = new(Capacity);

        /// <summary>Completes once the close has returned.</summary>
        public Task Closed => _closed.Task;

        /// <summary>Times the queue held more than its capacity, as seen by the writers (see <see cref="CheckCapacity"/>).</summary>
        public int CapacityBreaches => Volatile.Read(ref _capacityBreaches);

        /// <summary>Writes refused as closed although the close had not begun.</summary>
        public int ClosedBeforeTheClose => Volatile.Read(ref _closedBeforeTheClose);

        /// <summary>Writes queued or refused as full although they began after the close returned.</summary>
        public int AcceptedAfterTheClose => Volatile.Read(ref _acceptedAfterTheClose);

        public int OutcomeCount(SocketQueueWrite outcome) => _outcomes.Count(o => o == (int)outcome);

        /// <summary>A writer that never waits: each attempt writes a new id; a refused id is never written again.</summary>
        public Task WriteAsync(int writer, bool stopAtClose, int? closeAfter = null) => Task.Factory.StartNew(
            () =>
            {
                SpinWait backOff = default;
                for (int attempt = 0; attempt < attemptsPerWriter; attempt++)
                {
                    int id = (writer * attemptsPerWriter) + attempt;
                    bool closeHadReturned = Volatile.Read(ref _closeReturned) != 0;
                    SocketQueueWrite outcome = Queue.TryWrite(id);
                    Volatile.Write(ref _outcomes[id], (int)outcome);
                    switch (outcome)
                    {
                        case SocketQueueWrite.Queued:
                            CheckCapacity(Interlocked.Increment(ref _queuedCount));
                            backOff.Reset();
                            break;
                        case SocketQueueWrite.Full:
                            backOff.SpinOnce(sleep1Threshold: -1);
                            break;
                        case SocketQueueWrite.Closed when Volatile.Read(ref _closeStarted) == 0:
                            Interlocked.Increment(ref _closedBeforeTheClose);
                            break;
                    }

                    if (closeHadReturned && outcome != SocketQueueWrite.Closed)
                    {
                        Interlocked.Increment(ref _acceptedAfterTheClose);
                    }

                    if (stopAtClose && outcome == SocketQueueWrite.Closed)
                    {
                        return;
                    }

                    if (attempt + 1 == closeAfter)
                    {
                        Close();
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        /// <summary>A writer that writes its next item only once its previous one has been read.</summary>
        public Task WriteOneAtATimeAsync(int writer) => Task.Factory.StartNew(
            () =>
            {
                for (int attempt = 0; attempt < attemptsPerWriter; attempt++)
                {
                    int id = (writer * attemptsPerWriter) + attempt;
                    Thread.SpinWait(attempt % 97);
                    SocketQueueWrite outcome = Queue.TryWrite(id);
                    Volatile.Write(ref _outcomes[id], (int)outcome);
                    Assert.Equal(SocketQueueWrite.Queued, outcome);
                    SpinWait untilRead = default;
                    long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
                    while (Volatile.Read(ref _reads[id]) == 0)
                    {
                        Assert.True(Environment.TickCount64 < deadline, $"item {id} was never read: a reader slept past its write");
                        untilRead.SpinOnce();
                    }
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        public Task ReadAsync(ReaderKind kind, bool cancellable = false) => kind switch
        {
            ReaderKind.Polling => Task.Factory.StartNew(() => Poll(untilClosed: false), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
            ReaderKind.PollingUntilClosed => Task.Factory.StartNew(() => Poll(untilClosed: true), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
            ReaderKind.Waiting => Task.Run(() => WaitAndReadAsync(cancellable)),
            ReaderKind.ReadingOneByOne => Task.Run(ReadOneByOneAsync),
            _ => Task.Run(ReadAllAsync),
        };

        private void Close()
        {
            Volatile.Write(ref _closeStarted, 1);
            bool closed = Queue.TryComplete(closeError);
            Volatile.Write(ref _closeReturned, 1);
            if (closed)
            {
                _closed.SetResult();
            }
            else
            {
                _closed.SetException(new InvalidOperationException("the queue was closed twice"));
            }
        }

        public void AssertEveryQueuedItemReadOnce(List<int>? drained)
        {
            int[] taken = [.. _reads];
            foreach (int id in drained ?? [])
            {
                taken[id]++;
            }

            var wrong = Enumerable.Range(0, taken.Length)
                .Where(id => taken[id] != (_outcomes[id] == (int)SocketQueueWrite.Queued ? 1 : 0))
                .Take(10)
                .Select(id => $"item {id}: {(_outcomes[id] == NotAttempted ? "not written" : (SocketQueueWrite)_outcomes[id])}, taken {taken[id]} times")
                .ToList();
            Assert.True(wrong.Count == 0, string.Join("; ", wrong));
        }

        /// <summary>
        /// A writer's view of the capacity. Writes queued (counted after each returns) minus items read (counted after
        /// each read returns) can exceed the items in the queue only by the reads taken but not counted yet, at most
        /// one per reader; the reads are read after the writes, so later reads only lower the difference.
        /// </summary>
        private void CheckCapacity(long queued)
        {
            long read = Interlocked.Read(ref _readCount);
            int count = Queue.Count;
            if (queued - read > Capacity + Readers || count < 0 || count > Capacity)
            {
                Interlocked.Increment(ref _capacityBreaches);
            }
        }

        private void Took(int id)
        {
            Interlocked.Increment(ref _reads[id]);
            Interlocked.Increment(ref _readCount);
        }

        private void Poll(bool untilClosed)
        {
            SpinWait idle = default;
            while (!(untilClosed ? Queue.IsClosed : Queue.Completion.IsCompleted))
            {
                if (Queue.TryRead(out int id))
                {
                    Took(id);
                    idle.Reset();
                }
                else
                {
                    idle.SpinOnce();
                }
            }
        }

        private async Task WaitAndReadAsync(bool cancellable)
        {
            using var never = new CancellationTokenSource();
            CancellationToken token = cancellable ? never.Token : CancellationToken.None;
            try
            {
                while (await Queue.WaitToReadAsync(token))
                {
                    while (Queue.TryRead(out int id))
                    {
                        Took(id);
                    }
                }
            }
            catch (InvalidOperationException) when (Queue.IsClosed)
            {
                // The close's error: the reads end.
            }
        }

        private async Task ReadOneByOneAsync()
        {
            try
            {
                while (true)
                {
                    Took(await Queue.ReadAsync());
                }
            }
            catch (ChannelClosedException) when (Queue.IsClosed)
            {
                // The close: the reads end.
            }
        }

        private async Task ReadAllAsync()
        {
            try
            {
                await foreach (int id in Queue.ReadAllAsync())
                {
                    Took(id);
                }
            }
            catch (InvalidOperationException) when (Queue.IsClosed)
            {
                // The close's error: the reads end.
            }
        }
    }
}
