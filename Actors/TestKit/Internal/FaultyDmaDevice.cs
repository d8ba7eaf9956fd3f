using Netmem.Pool.Dma;

namespace Netmem.TestKit.Internal;

/// <summary>
/// A queue's DMA API with the scenario's DMA faults in front (fail the next map, slow unmaps until teardown) and the
/// kit's <see cref="DmaLedger"/> beside it. Every call that is not failed reaches the device underneath.
/// </summary>
internal sealed class FaultyDmaDevice(IDmaDevice inner, FaultSwitches faults, DmaLedger ledger) : IDmaDevice
{
    public string Name => inner.Name;

    public bool NeedsSync => inner.NeedsSync;

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        if (faults.TakeMapFailure())
        {
            throw new DmaMapException($"{inner.Name}: the scenario failed this map (ScenarioFaults.FailNextMap).");
        }

        ulong address = inner.Map(buffer, direction);
        ledger.Mapped(address);
        return address;
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        TimeSpan latency = faults.UnmapLatency;
        if (latency > TimeSpan.Zero)
        {
            // The device itself is slow: the unmapping thread (the destroy's walk) waits, as it would on a busy IOMMU.
            Thread.Sleep(latency);
        }

        ledger.Unmapped(dmaAddress);
        inner.Unmap(dmaAddress, length, direction);
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        ledger.Synced(nameof(SyncForDevice), dmaAddress);
        inner.SyncForDevice(dmaAddress, offset, length, direction);
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        ledger.Synced(nameof(SyncForCpu), dmaAddress);
        inner.SyncForCpu(dmaAddress, offset, length, direction);
    }
}
