using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Rx;

namespace Netmem.Simulation;

/// <summary>
/// The receive side of one simulated RX queue: a descriptor ring of posted pages and a wire. A reap has the wire write
/// its next frame straight into the last posted page through the IOMMU model's DMA engine for the queue, so the model
/// judges every DMA and the frame is copied once.
/// </summary>
/// <remarks>
/// A descriptor holds the page's DMA address as it was when the page was posted, as a NIC's descriptor does: the
/// hardware never asks the pool again, so a page unmapped while still posted is written through its stale address,
/// and the IOMMU model sees exactly the fault a real device would cause.
/// </remarks>
internal sealed class SimulatedRxQueue : IRxQueueDevice
{
    private readonly PagePool _pool;
    private readonly ITrafficSource _wire;
    private readonly Descriptor[] _ring;
    private readonly IommuModel.DeviceWriter _dma;
    private int _posted;

    public SimulatedRxQueue(IommuModel iommu, PagePool pool, ITrafficSource wire, int ringSize)
    {
        _pool = pool;
        _wire = wire;
        _ring = new Descriptor[ringSize];
        _dma = new IommuModel.DeviceWriter(iommu);
        if (wire.ConnectInterrupt(RaiseInterrupt))
        {
            // A reap takes a frame only into a posted page: with none posted, nothing is waiting for the driver (the
            // driver polls again when it posts pages), and the wire is not asked to raise.
            Interrupt = new RxInterrupt(() => _posted > 0 && _wire.CheckArrival());
        }
    }

    /// <summary>The wire's interrupt line, when the wire has one; a frame arriving raises it.</summary>
    public RxInterrupt? Interrupt { get; }

    public int Posted => _posted;

    private void RaiseInterrupt() => Interrupt?.Raise();

    /// <summary>Posts <paramref name="page"/>; false when the ring is full or the page is not mapped for the device.</summary>
    public bool TryPost(NetmemRef page)
    {
        if (_posted == _ring.Length || !_pool.TryGetDmaAddress(page, out ulong dmaAddress))
        {
            return false;
        }

        _ring[_posted++] = new Descriptor(page, dmaAddress);
        return true;
    }

    /// <remarks>
    /// A write the IOMMU refuses (the page is not mapped) drops the frame and keeps the page posted. Pages leave the
    /// ring only when the reap returns, so a wire that throws mid-reap leaves every page posted for the close. The
    /// whole reap is one batch of the queue's DMA engine: one locked instruction, however many frames it writes.
    /// </remarks>
    public int Reap(Span<RxFrame> frames)
    {
        if (_posted == 0 || frames.IsEmpty)
        {
            return 0;
        }

        int taken = 0;
        _dma.BeginBatch();
        try
        {
            while (taken < frames.Length && taken < _posted)
            {
                Descriptor descriptor = _ring[_posted - 1 - taken];
                bool landing = _dma.TryOpen(descriptor.DmaAddress, 0, _pool.PageSize, out Span<byte> destination);
                bool arrived = _wire.TryReceive(destination, out int length);
                _dma.Close(arrived, length);
                if (!arrived)
                {
                    break;
                }

                if (landing)
                {
                    frames[taken++] = new RxFrame(descriptor.Page, 0, length);
                }
            }
        }
        finally
        {
            _dma.EndBatch();
        }

        _posted -= taken;
        return taken;
    }

    /// <remarks>
    /// The wire stays up (a restarted driver opens the queue again); the teardown stops it. The queue's DMA engine
    /// retires: a closed queue has no page posted, so it never reaps again.
    /// </remarks>
    public long Close()
    {
        _dma.Retire();
        int returned = _posted;
        for (int i = 0; i < _posted; i++)
        {
            _pool.Return(_ring[i].Page);
        }

        _posted = 0;
        return returned;
    }

    private readonly record struct Descriptor(NetmemRef Page, ulong DmaAddress);
}
