using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Rx;

namespace Netmem.Simulation;

/// <summary>
/// The receive side of one simulated RX queue: a descriptor ring of posted pages and a wire. A reap takes the next
/// frame off the wire and has the IOMMU model write it into the last posted page, so the model judges every DMA.
/// </summary>
internal sealed class SimulatedRxQueue : IRxQueueDevice
{
    private readonly IommuModel _iommu;
    private readonly PagePool _pool;
    private readonly ITrafficSource _wire;
    private readonly NetmemRef[] _ring;
    private readonly byte[] _staging;
    private int _posted;

    public SimulatedRxQueue(IommuModel iommu, PagePool pool, ITrafficSource wire, int ringSize)
    {
        _iommu = iommu;
        _pool = pool;
        _wire = wire;
        _ring = new NetmemRef[ringSize];
        _staging = new byte[pool.PageSize];
    }

    public int Posted => _posted;

    public bool TryPost(NetmemRef page)
    {
        if (_posted == _ring.Length)
        {
            return false;
        }

        _ring[_posted++] = page;
        return true;
    }

    /// <remarks>
    /// A write the IOMMU refuses (the page is not mapped) drops the frame and keeps the page posted. Pages leave the
    /// ring only when the reap returns, so a wire that throws mid-reap leaves every page posted for the close.
    /// </remarks>
    public int Reap(Span<RxFrame> frames)
    {
        int taken = 0;
        while (taken < frames.Length && taken < _posted && _wire.TryReceive(_staging, out int length))
        {
            NetmemRef page = _ring[_posted - 1 - taken];
            if (!_iommu.DmaWrite(_pool.GetDmaAddress(page), 0, _staging.AsSpan(0, length)))
            {
                continue;
            }

            frames[taken++] = new RxFrame(page, 0, length);
        }

        _posted -= taken;
        return taken;
    }

    /// <remarks>The wire stays up (a restarted driver opens the queue again); the teardown stops it.</remarks>
    public long Close()
    {
        int returned = _posted;
        for (int i = 0; i < _posted; i++)
        {
            _pool.Return(_ring[i]);
        }

        _posted = 0;
        return returned;
    }
}
