using Netmem.Pool.Dma;
using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// The DMA seam: a device decorator whose <see cref="Map"/> may fail or be slow, decided per map operation of its
/// stream, and whose unmaps and syncs are slow while the <see cref="SlowDeviceSeam"/> says so for the unbind in
/// progress. Every call still reaches the device underneath (the strict IOMMU model), which judges it.
/// </summary>
/// <remarks>
/// A slow map is slow for whoever calls it, as a contended IOMMU is: the pool's map API is synchronous, so the
/// injected latency (at most 3 ms) stalls the calling thread, which may be the driver actor refilling its ring
/// inline. That is the fault being modelled, not a way of waiting: it shows that a stalled poll delays the unbind
/// protocol but cannot break it.
/// </remarks>
internal sealed class ChaosDmaDevice : IDmaDevice
{
    private static readonly TimeSpan MinMapLatency = TimeSpan.FromMicroseconds(200);
    private static readonly TimeSpan MaxMapLatency = TimeSpan.FromMilliseconds(3);

    private readonly IDmaDevice _inner;
    private readonly FaultStream _maps;
    private readonly ResiliencePipeline _mapPipeline;
    private readonly SlowDeviceSeam _slow;

    public ChaosDmaDevice(IDmaDevice inner, SeededChaos chaos, FaultStream maps, SlowDeviceSeam slow)
    {
        _inner = inner;
        _maps = maps;
        _slow = slow;
        _mapPipeline = new ResiliencePipelineBuilder()
            .AddChaosLatency(chaos.Latency(FaultKind.DmaMapLatency, MinMapLatency, MaxMapLatency))
            .AddChaosFault(chaos.Fault(FaultKind.DmaMapFailure, draw => new DmaMapException($"{inner.Name}: injected map failure ({draw}).")))
            .Build();
    }

    public string Name => _inner.Name;

    public bool NeedsSync => _inner.NeedsSync;

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        ResilienceContext context = SeededChaos.Enter(_maps);
        try
        {
            return _mapPipeline.Execute(static (_, call) => call.Inner.Map(call.Buffer, call.Direction), context, (Inner: _inner, Buffer: buffer, Direction: direction));
        }
        finally
        {
            SeededChaos.Leave(context);
        }
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        _slow.BeforeUnmap();
        _inner.Unmap(dmaAddress, length, direction);
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        _slow.BeforeSync();
        _inner.SyncForDevice(dmaAddress, offset, length, direction);
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        _slow.BeforeSync();
        _inner.SyncForCpu(dmaAddress, offset, length, direction);
    }
}
