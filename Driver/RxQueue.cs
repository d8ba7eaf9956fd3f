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
/// <see cref="RxBatchPool"/>; the stack actor recycles each one after handling it.
/// </remarks>
internal sealed class RxQueue
{
    private readonly string _device;
    private readonly IommuModel _iommu;
    private readonly IActorRef _stack;
    private readonly NetmemRef[] _ring;
    private readonly RxBatchPool _batches;
    private readonly int _budget;
    private readonly byte[] _staging;
    private readonly KeyValuePair<string, object?>[] _tags;
    private int _ringCount;

    // The batch being filled, rented from _batches; null until the first frame of a poll.
    private RxBatch? _batch;

    private readonly RingRefill?[] _pendingRefills;

    public RxQueue(string device, int index, PagePool pool, IommuModel iommu, ITrafficSource source, IActorRef stack, DriverOptions options, RingRefill?[] pendingRefills)
    {
        _pendingRefills = pendingRefills;
        _device = device;
        Index = index;
        Pool = pool;
        _iommu = iommu;
        Source = source;
        _stack = stack;
        _ring = new NetmemRef[options.RingSize];
        _batches = new RxBatchPool(device, index);
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
            _batch ??= _batches.Rent();
            _batch.Add(new RxFrame(page, 0, length));
            _ringCount--;
        }

        RxBatch? batch = _batch;
        if (batch is null)
        {
            return 0;
        }

        _batch = null;
        int taken = batch.Count;
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

            // Never told, so never recycled: dropped with its pages' handles forgotten, and the next poll rents anew.
            batch.Clear();
            _batch = null;
        }

        for (int i = 0; i < _ringCount; i++)
        {
            Pool.Return(_ring[i]);
        }

        _ringCount = 0;
        return returned;
    }
}
