using System.Diagnostics;
using Netmem.Pool.Dma;

namespace Netmem.Actors.Tests;

/// <summary>
/// A DMA API in front of the strict IOMMU model that can be made slow (unmaps and syncs take a set time) or made to
/// hang (every unmap, or every map, waits until the test lets it go), and that records when its last call ended, so a scenario can
/// say whether any device call ran after the <c>Unbound</c> it received.
/// </summary>
internal sealed class TimedDevice(IDmaDevice inner) : IDmaDevice
{
    private readonly ManualResetEventSlim _hold = new(initialState: true);
    private readonly ManualResetEventSlim _holdMaps = new(initialState: true);
    private long _mapsHeld;
    private long _callsInside;
    private long _lastCallEnded;
    private long _calls;

    public TimeSpan UnmapLatency { get; set; }

    public TimeSpan SyncLatency { get; set; }

    public string Name => inner.Name;

    public bool NeedsSync => inner.NeedsSync;

    public long Calls => Interlocked.Read(ref _calls);

    public long CallsInside => Interlocked.Read(ref _callsInside);

    /// <summary>The timestamp (<see cref="Stopwatch"/>) at which the last call returned.</summary>
    public long LastCallEnded => Interlocked.Read(ref _lastCallEnded);

    /// <summary>Every unmap from now on waits until <see cref="Release"/>.</summary>
    public void HoldUnmaps() => _hold.Reset();

    public void Release() => _hold.Set();

    /// <summary>Every map from now on waits until <see cref="ReleaseMaps"/>.</summary>
    public void HoldMaps() => _holdMaps.Reset();

    public void ReleaseMaps() => _holdMaps.Set();

    /// <summary>Maps waiting right now because of <see cref="HoldMaps"/>.</summary>
    public long MapsHeld => Interlocked.Read(ref _mapsHeld);

    public ulong Map(DmaBuffer buffer, DmaDirection direction) => Call(() =>
    {
        if (!_holdMaps.IsSet)
        {
            Interlocked.Increment(ref _mapsHeld);
            _holdMaps.Wait();
            Interlocked.Decrement(ref _mapsHeld);
        }

        return inner.Map(buffer, direction);
    }, TimeSpan.Zero);

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction) => Call(() =>
    {
        _hold.Wait();
        inner.Unmap(dmaAddress, length, direction);
        return 0UL;
    }, UnmapLatency);

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        Call(() => { inner.SyncForDevice(dmaAddress, offset, length, direction); return 0UL; }, SyncLatency);

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        Call(() => { inner.SyncForCpu(dmaAddress, offset, length, direction); return 0UL; }, SyncLatency);

    private ulong Call(Func<ulong> call, TimeSpan latency)
    {
        Interlocked.Increment(ref _callsInside);
        Interlocked.Increment(ref _calls);
        try
        {
            if (latency > TimeSpan.Zero)
            {
                Thread.Sleep(latency);
            }

            return call();
        }
        finally
        {
            Interlocked.Exchange(ref _lastCallEnded, Stopwatch.GetTimestamp());
            Interlocked.Decrement(ref _callsInside);
        }
    }
}
