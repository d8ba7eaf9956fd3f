using Akka.Actor;
using Netmem.Driver.Traffic;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Stack.Actors;

namespace Netmem.Driver;

/// <summary>
/// One RX queue of the driver: its pool, its descriptor ring of pages, the wire it receives from, and the stack
/// actor it hands batches to. Used only from the driver's context.
/// </summary>
/// <remarks>
/// Ownership: every page this queue has taken from its pool is, at every instant, either in the ring or in the
/// batch being built (a page moves from one to the other by <see cref="RxBatch.Add"/> and a decrement, nothing in
/// between can throw: the batch is lent to this queue and has room for the budget), until the batch is told to the
/// stack. So a crash at any point is recovered by returning both. Batches come from this queue's
/// <see cref="RxBatchPool"/>, which the stack actor gives each one back to after handling it, and which bounds how
/// many are out (<see cref="WaitingForBatch"/>).
/// </remarks>
internal sealed class RxQueue
{
    private readonly IommuModel _iommu;
    private readonly IActorRef _stack;
    private readonly NetmemRef[] _ring;
    private readonly int _budget;
    private readonly byte[] _staging;
    private readonly KeyValuePair<string, object?>[] _tags;
    private int _ringCount;

    // The batch being filled: rented from Batches before a poll takes its first frame, kept (empty) when a poll
    // takes none, and null once told to the stack.
    private RxBatch? _batch;

    private readonly RingRefill?[] _pendingRefills;

    /// <param name="resume">Called (from the stack's thread) when a batch comes back after <see cref="WaitingForBatch"/> was set.</param>
    public RxQueue(string device, int index, PagePool pool, IommuModel iommu, ITrafficSource source, IActorRef stack, DriverOptions options, RingRefill?[] pendingRefills, Action resume)
    {
        _pendingRefills = pendingRefills;
        Index = index;
        Pool = pool;
        _iommu = iommu;
        Source = source;
        _stack = stack;
        _ring = new NetmemRef[options.RingSize];
        Batches = new RxBatchPool(device, index, options.MaxBatchesInFlight, resume);
        _budget = options.Budget;
        _staging = new byte[pool.PageSize];
        _tags = DriverMetrics.QueueTags(device, index);
        PollMessage = new PollQueue(index);
        RefillMessage = new RefillQueue(index);
    }

    public int Index { get; }

    public PagePool Pool { get; }

    public ITrafficSource Source { get; }

    public PollQueue PollMessage { get; }

    public RefillQueue RefillMessage { get; }

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

    public int EmptyDescriptors => _ring.Length - _ringCount;

    public ReadOnlySpan<KeyValuePair<string, object?>> Tags => _tags;

    /// <summary>Fills every empty descriptor from the pool. A failure propagates; the pages taken so far stay in the ring.</summary>
    public void Fill()
    {
        while (_ringCount < _ring.Length)
        {
            _ring[_ringCount] = Pool.Allocate();
            _ringCount++;
        }
    }

    /// <summary>Puts a finished refill's pages on the ring (any surplus goes back to the pool).</summary>
    public void TakeRefill(RingRefill refill)
    {
        foreach (NetmemRef page in refill.Pages)
        {
            if (_ringCount < _ring.Length)
            {
                _ring[_ringCount++] = page;
            }
            else
            {
                Pool.Return(page);
            }
        }
    }

    /// <summary>
    /// One NAPI poll: for each frame on the wire, up to the budget and while descriptors last, the device DMAs it
    /// into the next ring page (through the IOMMU model) and the page joins the batch; the batch goes to the stack.
    /// A write the IOMMU refuses drops the frame and keeps the page. Returns the number of frames delivered.
    /// </summary>
    public int Poll()
    {
        if (_batch is null && !Batches.TryRent(out _batch))
        {
            WaitingForBatch = true;
            return 0;
        }

        RxBatch batch = _batch;
        for (int frame = 0; frame < _budget && _ringCount > 0; frame++)
        {
            if (!Source.TryReceive(_staging, out int length))
            {
                break;
            }

            NetmemRef page = _ring[_ringCount - 1];
            if (!_iommu.DmaWrite(Pool.GetDmaAddress(page), 0, _staging.AsSpan(0, length)))
            {
                continue;
            }

            Pool.SyncForCpu(page, 0, length);
            batch.Add(new RxFrame(page, 0, length));
            _ringCount--;
        }

        int taken = batch.Count;
        if (taken == 0)
        {
            return 0;
        }

        _batch = null;
        _stack.Tell(batch);
        DriverMetrics.RecordBatch(_tags, taken);
        return taken;
    }

    /// <summary>Returns every page of the ring and of an unsent batch to the pool; returns how many.</summary>
    public long ReturnAll()
    {
        long returned = _ringCount;
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

        for (int i = 0; i < _ringCount; i++)
        {
            Pool.Return(_ring[i]);
        }

        _ringCount = 0;
        return returned;
    }
}
