using Akka.Actor;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;

namespace Netmem.Driver;

/// <summary>
/// One RX queue of the driver: its pool, the device's receive side it posts pages to and reaps frames from, and the
/// stack actor it hands batches to. Used only from the driver's context.
/// </summary>
/// <remarks>
/// Ownership: every page this queue has taken from its pool is, at every instant, either posted to the device (its
/// <see cref="IRxQueueDevice"/>, which gives it back by <see cref="IRxQueueDevice.Reap"/> or
/// <see cref="IRxQueueDevice.Close"/>) or in the batch being built, until the batch is told to the stack. A reaped
/// page joins the batch before anything that can throw, so a crash at any point is recovered by closing the device
/// side and returning the batch. Batches come from this queue's <see cref="RxBatchPool"/>, which the stack actor
/// gives each one back to after handling it, and which bounds how many are out (<see cref="WaitingForBatch"/>).
/// </remarks>
internal sealed class RxQueue
{
    private readonly IActorRef _stack;
    private readonly RxFrame[] _reaped;
    private readonly int _ringSize;
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly RingRefill?[] _pendingRefills;

    // The batch being filled: rented from Batches before a poll takes its first frame, kept (empty) when a poll
    // takes none, and null once told to the stack.
    private RxBatch? _batch;
    private bool _closed;

    /// <param name="device">The device's name, for messages and metric tags.</param>
    /// <param name="index">The RX queue's index.</param>
    /// <param name="pool">The queue's pool, which the ring is filled from.</param>
    /// <param name="receiver">The device's receive side of this queue.</param>
    /// <param name="stack">The stack actor the batches are told to.</param>
    /// <param name="options">Ring size, poll budget and the rest of the driver's options.</param>
    /// <param name="pendingRefills">Each queue's refill still running under the retry pipeline, shared by every incarnation of the driver, by queue.</param>
    /// <param name="resume">Called (from the stack's thread) when a batch comes back after <see cref="WaitingForBatch"/> was set.</param>
    public RxQueue(string device, int index, PagePool pool, IRxQueueDevice receiver, IActorRef stack, DriverOptions options, RingRefill?[] pendingRefills, Action resume)
    {
        _pendingRefills = pendingRefills;
        Index = index;
        Pool = pool;
        Receiver = receiver;
        _stack = stack;
        _ringSize = options.RingSize;
        _reaped = new RxFrame[options.Budget];
        Batches = new RxBatchPool(device, index, options.MaxBatchesInFlight, resume) { Format = receiver.FrameFormat };
        _tags = DriverMetrics.QueueTags(device, index);
        PollMessage = new PollQueue(index);
        WakeMessage = new WakeQueue(index);
        Interrupt = receiver.Interrupt;
        RefillMessage = new RefillQueue(index);
    }

    public int Index { get; }

    public PagePool Pool { get; }

    /// <summary>The device's receive side of this queue, opened by this driver incarnation.</summary>
    public IRxQueueDevice Receiver { get; }

    public PollQueue PollMessage { get; }

    public RefillQueue RefillMessage { get; }

    /// <summary>What the queue's interrupt tells the driver when frames land; this incarnation's own instance.</summary>
    public WakeQueue WakeMessage { get; }

    /// <summary>The device's wake-up for this queue, or null when the driver must poll it on a timer.</summary>
    public RxInterrupt? Interrupt { get; }

    /// <summary>Where this queue's batches come from; bounds how many are out at once.</summary>
    public RxBatchPool Batches { get; }

    /// <summary>
    /// Set by a poll that found every batch out: the queue then stops polling, and <see cref="Batches"/> calls the
    /// resume callback once when the stack gives one back. The driver clears it when it resumes.
    /// </summary>
    public bool WaitingForBatch { get; set; }

    /// <summary>
    /// The refill running under the retry pipeline, if any, whichever incarnation of the driver started it; while
    /// set, this queue makes no allocation.
    /// </summary>
    public RingRefill? Refill
    {
        get => _pendingRefills[Index];
        set => _pendingRefills[Index] = value;
    }

    /// <summary>
    /// Whether the last <see cref="Poll"/> stopped short of its budget because every posted page was used: frames may
    /// still be waiting on the wire, so the next poll should follow as soon as the ring has pages again.
    /// </summary>
    public bool RingRanDry { get; private set; }

    /// <summary>
    /// A <see cref="PollMessage"/> is in the driver's mailbox (told, not from the timer) and not handled yet; the
    /// driver keeps one poll chain per queue, so it tells no second one meanwhile.
    /// </summary>
    public bool ImmediatePollQueued { get; set; }

    public int EmptyDescriptors => _closed ? 0 : Math.Max(0, _ringSize - Receiver.Posted);

    public ReadOnlySpan<KeyValuePair<string, object?>> Tags => _tags;

    /// <summary>Posts a page to every empty descriptor. A failure propagates; the pages posted so far stay posted.</summary>
    public void Fill()
    {
        while (Receiver.Posted < _ringSize)
        {
            NetmemRef page = Pool.Allocate();
            if (!Receiver.TryPost(page))
            {
                Pool.Return(page);
                return;
            }
        }
    }

    /// <summary>Posts a finished refill's pages (any the device has no room for, or all once closed, go back to the pool).</summary>
    public void TakeRefill(RingRefill refill)
    {
        foreach (NetmemRef page in refill.Pages)
        {
            if (_closed || Receiver.Posted >= _ringSize || !Receiver.TryPost(page))
            {
                Pool.Return(page);
            }
        }
    }

    /// <summary>
    /// One NAPI poll: reaps up to the budget of frames the device wrote into posted pages, syncs each for the CPU,
    /// and hands them to the stack in one batch. Returns the number of frames delivered.
    /// </summary>
    public int Poll()
    {
        RingRanDry = false;
        if (_batch is null && !Batches.TryRent(out _batch))
        {
            WaitingForBatch = true;
            return 0;
        }

        RxBatch batch = _batch;
        int posted = Receiver.Posted;
        int reaped = Receiver.Reap(_reaped);
        RingRanDry = reaped < _reaped.Length && reaped == posted;
        for (int i = 0; i < reaped; i++)
        {
            batch.Add(_reaped[i]);
        }

        if (reaped == 0)
        {
            return 0;
        }

        // The pages are the batch's now, so a sync that throws loses none of them (ReturnAll returns the batch). One
        // call for the batch: the pool's device gate is entered once per poll, not once per frame.
        Pool.SyncForCpu(batch.Frames);

        _batch = null;
        _stack.Tell(batch);
        DriverMetrics.RecordBatch(_tags, reaped);
        return reaped;
    }

    /// <summary>
    /// Closes the device's receive side (it returns every page it holds to the pool; the first call only) and returns
    /// the pages of an unsent batch; returns how many pages went back.
    /// </summary>
    public long ReturnAll()
    {
        long returned = 0;
        if (!_closed)
        {
            _closed = true;
            returned = Receiver.Close();
        }

        if (_batch is { } batch)
        {
            returned += batch.Count;
            foreach (RxFrame frame in batch.Frames)
            {
                Pool.Return(frame.Netmem);
            }

            // Never told: the driver is its last holder, so it goes back to its pool (ending its lending).
            _batch = null;
            batch.Recycle();
        }

        return returned;
    }
}
