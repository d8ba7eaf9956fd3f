using Akka.Actor;
using Akka.Event;
using Netmem.Driver.Devices;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Polly;

namespace Netmem.Driver;

/// <summary>
/// The NIC driver of one device for one bind: N RX queues, each with its own pool, polled NAPI-style.
/// </summary>
/// <remarks>
/// <para>Polling is NAPI's: a self-message loop, never a blocking loop. A poll that used its whole budget is followed
/// at once by the next (the mailbox interleaves control messages such as <see cref="Quiesce"/>); a poll that found
/// the ring empty re-arms the queue's interrupt (<see cref="RxInterrupt"/>) and the chain sleeps until the device
/// raises it, which tells the driver <see cref="WakeQueue"/> from the device's thread. No timer is on the receive path
/// of such a queue: a timer is a latency floor (Akka's scheduler ticks every 10 ms whatever the interval asked for)
/// and spins on an idle queue. Each poll hands at most one batch per queue to the stack, never single packets.</para>
/// <para>A device without an interrupt is polled on the idle timer instead. Either way, where work is likely the next
/// poll is told at once: after a poll that stopped short only because its ring ran out of posted pages, once the
/// refill has posted pages again, and when a deferred refill lands or a backed-off refill succeeds. Each queue has one
/// poll chain at a time: the told poll, the armed interrupt or timer, or (every batch out) the resume; telling a poll
/// cancels the timer, none is told while one is queued or the queue waits for a batch, and a wake-up that finds a
/// poll already queued is dropped (the queued poll reaps what woke it). Polls that found nothing are counted
/// (<c>driver.rx.idle_polls</c>).</para>
/// <para>Ring refills run inline; one that fails to map or allocate is handed to the retry pipeline as a task (see
/// <see cref="RingRefill"/>), never retried inside a receive.</para>
/// <para>Crashes: every page the driver holds is in a ring, an unsent batch or a pending refill.
/// <see cref="PreRestart"/> returns the rings and batches, and a pending refill passes to the restarted instance
/// (<see cref="DriverLifetime"/>), which fills its rings again from the same pools; <see cref="PostStop"/> returns
/// everything. So a crash loses no page, and a queue's allocation side never has two owners.</para>
/// </remarks>
public sealed class DriverActor : ReceiveActor, IWithTimers
{
    private readonly DriverSetup _setup;
    private readonly RxQueue[] _queues;
    private readonly ResiliencePipeline _retryPipeline;
    private readonly CancellationTokenSource _stopping;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IActorRef? _quiesceRequester;
    private long _ringPagesReturned;
    private bool _quiescing;

    /// <summary>The driver of one bind, with one RX queue per pool of <paramref name="setup"/>; it starts polling once started.</summary>
    /// <exception cref="ArgumentException">The options are invalid (<see cref="DriverOptions.Validate"/>), or the setup does not give one pool and one stack queue per RX queue.</exception>
    public DriverActor(DriverSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        setup.Options.Validate();
        if (setup.Pools.Count == 0 || setup.Pools.Count != setup.StackQueues.Count)
        {
            throw new ArgumentException("The driver needs one pool and one stack queue per RX queue.", nameof(setup));
        }

        _setup = setup;
        _retryPipeline = setup.Options.DmaMapRetryPipeline ?? DmaMapRetryPipeline.CreateDefault();
        _stopping = setup.Lifetime.Stopping;
        _queues = new RxQueue[setup.Pools.Count];
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = NewQueue(setup, i, Self);
        }

        Receive<PollQueue>(poll =>
        {
            // Each incarnation's queues have their own message: one an earlier incarnation told (still in the mailbox
            // after a restart) is not this chain's, and polling on it would start a second chain.
            RxQueue queue = _queues[poll.Queue];
            if (ReferenceEquals(poll, queue.PollMessage))
            {
                queue.ImmediatePollQueued = false;
                Poll(queue);
            }
        });
        Receive<WakeQueue>(wake =>
        {
            RxQueue queue = _queues[wake.Queue];
            if (ReferenceEquals(wake, queue.WakeMessage) && !_quiescing && !queue.ImmediatePollQueued && !queue.WaitingForBatch)
            {
                Poll(queue);
            }
        });
        Receive<RefillQueue>(refill => OnRefillBackoffEnded(_queues[refill.Queue]));
        Receive<RingRefillEnded>(OnRefillEnded);
        Receive<ResumePolling>(OnResumePolling);
        Receive<Quiesce>(_ => StartQuiesce());
    }

    /// <summary>Set by Akka; arms the poll timer that stands in for the RX interrupt.</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The props to start a <see cref="DriverActor"/> for <paramref name="setup"/>.</summary>
    public static Props Props(DriverSetup setup) => Akka.Actor.Props.Create(() => new DriverActor(setup));

    /// <summary>Fills every RX ring from its pool and starts polling each queue.</summary>
    protected override void PreStart()
    {
        foreach (RxQueue queue in _queues)
        {
            RefillRing(queue);
            PollSoon(queue);
        }
    }

    /// <summary>Before a restart: give back the rings and unsent batches; running refills pass to the next incarnation.</summary>
    protected override void PreRestart(Exception reason, object message)
    {
        foreach (RxQueue queue in _queues)
        {
            queue.ReturnAll();
        }
    }

    /// <summary>A real stop: give back the rings and unsent batches, and abandon running refills (see <see cref="RingRefill"/>).</summary>
    protected override void PostStop()
    {
        _stopping.Cancel();
        foreach (RxQueue queue in _queues)
        {
            queue.Refill?.Abandon();
            queue.Refill = null;
            queue.ReturnAll();
        }
    }

    private static RxQueue NewQueue(DriverSetup setup, int index, IActorRef self)
    {
        // Made once per queue; the callback cannot run before it is set, since no batch is rented before the queue exists.
        ResumePolling? resume = null;
        var queue = new RxQueue(
            setup.Device, index, setup.Pools[index], setup.Binding.OpenRxQueue(index, setup.Pools[index]), setup.StackQueues[index],
            setup.Options, setup.Lifetime.PendingRefills, () => self.Tell(resume!));
        resume = new ResumePolling(index, queue.Batches);
        WakeQueue wake = queue.WakeMessage;
        queue.Interrupt?.Connect(() => self.Tell(wake));
        return queue;
    }

    private void Poll(RxQueue queue)
    {
        if (_quiescing)
        {
            return;
        }

        int taken = queue.Poll();
        RefillRing(queue);
        if (queue.WaitingForBatch)
        {
            // Every batch is with the stack: this poll chain ends here, and ResumePolling starts the next.
            return;
        }

        if (taken == _setup.Options.Budget || (queue.RingRanDry && queue.Receiver.Posted > 0))
        {
            PollSoon(queue);
        }
        else
        {
            DriverMetrics.RecordIdlePoll(queue.Tags);
            if (queue.Interrupt is not { } interrupt)
            {
                Timers.StartSingleTimer(queue.PollMessage, queue.PollMessage, _setup.Options.IdlePollInterval);
            }
            else if (!interrupt.TryArm())
            {
                // Frames landed between the poll and the arming, and no raise took it: poll them now.
                PollSoon(queue);
            }
        }
    }

    /// <summary>Tells the queue's next poll now, unless its chain already has one queued or waits for a batch; cancels its idle timer.</summary>
    private void PollSoon(RxQueue queue)
    {
        if (_quiescing || queue.ImmediatePollQueued || queue.WaitingForBatch)
        {
            return;
        }

        // A timer message already in the mailbox is dropped by the cancel (Akka's timers check their generation).
        Timers.Cancel(queue.PollMessage);
        queue.ImmediatePollQueued = true;
        Self.Tell(queue.PollMessage);
    }

    private void OnRefillBackoffEnded(RxQueue queue)
    {
        int emptyBefore = queue.EmptyDescriptors;
        RefillRing(queue);
        if (queue.Refill is null && queue.EmptyDescriptors < emptyBefore)
        {
            PollSoon(queue);
        }
    }

    private void OnResumePolling(ResumePolling resume)
    {
        RxQueue queue = _queues[resume.Queue];
        if (!ReferenceEquals(queue.Batches, resume.Batches) || !queue.WaitingForBatch)
        {
            return;
        }

        queue.WaitingForBatch = false;
        Poll(queue);
    }

    private void RefillRing(RxQueue queue)
    {
        if (queue.Refill is not null || _quiescing || queue.EmptyDescriptors == 0)
        {
            return;
        }

        try
        {
            queue.Fill();
        }
        catch (Exception exception) when (exception is DmaMapException or MemoryProviderExhaustedException)
        {
            StartDeferredRefill(queue);
        }
    }

    /// <summary>Hands the queue's allocation side to a task that refills under the retry pipeline.</summary>
    private void StartDeferredRefill(RxQueue queue)
    {
        var refill = new RingRefill(queue.Pool, queue.EmptyDescriptors);
        queue.Refill = refill;
        DriverMetrics.RecordDeferredRefill(queue.Tags);
        IActorRef self = Self;
        int index = queue.Index;
        ResiliencePipeline pipeline = _retryPipeline;
        CancellationToken stopping = _stopping.Token;
        _ = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                await pipeline.ExecuteAsync(static (r, ct) =>
                {
                    r.AllocateRemaining(ct);
                    return ValueTask.CompletedTask;
                }, refill, stopping).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            if (refill.TryDeliver())
            {
                self.Tell(new RingRefillEnded(index, refill, failure));
            }
        });
    }

    private void OnRefillEnded(RingRefillEnded ended)
    {
        RxQueue queue = _queues[ended.Queue];
        if (!ReferenceEquals(queue.Refill, ended.Refill))
        {
            // Cannot happen while refills are adopted across restarts; if it does, the pages are still ours to return.
            _log.Error("{0} rx{1}: a refill ended that this queue was not waiting for; returning its pages", _setup.Device, queue.Index);
            foreach (var page in ended.Refill.Pages)
            {
                queue.Pool.Return(page);
            }

            return;
        }

        queue.Refill = null;
        queue.TakeRefill(ended.Refill);
        if (_quiescing)
        {
            TryCompleteQuiesce();
            return;
        }

        if (ended.Failure is not null)
        {
            _log.Warning("{0} rx{1}: ring refill gave up with {2} of its pages missing: {3}",
                _setup.Device, queue.Index, queue.EmptyDescriptors, ended.Failure.Message);
            Timers.StartSingleTimer(queue.RefillMessage, queue.RefillMessage, _setup.Options.RefillBackoffAfterFailure);
        }

        // The ring has pages again: frames that waited for them are likely there.
        if (queue.Receiver.Posted > 0)
        {
            PollSoon(queue);
        }
    }

    private void StartQuiesce()
    {
        _quiesceRequester = Sender;
        if (!_quiescing)
        {
            _quiescing = true;
            Timers.CancelAll();
            foreach (RxQueue queue in _queues)
            {
                queue.Interrupt?.Disarm();
            }

            _stopping.Cancel();
            // Stop receiving at once: each device side stops writing and gives its posted pages back.
            foreach (RxQueue queue in _queues)
            {
                _ringPagesReturned += queue.ReturnAll();
            }
        }

        TryCompleteQuiesce();
    }

    private void TryCompleteQuiesce()
    {
        if (_queues.Any(q => q.Refill is not null))
        {
            return;
        }

        foreach (RxQueue queue in _queues)
        {
            _ringPagesReturned += queue.ReturnAll();
        }

        _quiesceRequester?.Tell(new Quiesced(_setup.Device, _ringPagesReturned));
    }
}
