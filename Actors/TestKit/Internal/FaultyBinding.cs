using System.Collections.Concurrent;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;

namespace Netmem.TestKit.Internal;

/// <summary>One bind of a <see cref="FaultyNetDevice"/>: the inner binding with the kit's decorators on what it hands out.</summary>
internal sealed class FaultyBinding(IDeviceBinding inner, FaultSwitches faults, RingLedger ring, DmaLedger ledger, string device) : IDeviceBinding
{
    private readonly ConcurrentDictionary<int, IDmaDevice> _dmaDevices = new();

    public IDmaDevice GetDmaDevice(int queue) =>
        _dmaDevices.GetOrAdd(queue, q => new FaultyDmaDevice(inner.GetDmaDevice(q), faults, ledger));

    public IRxQueueDevice OpenRxQueue(int queue, PagePool pool) =>
        new TrackedRxQueue(inner.OpenRxQueue(queue, pool), faults, ring, device, queue);

    public DeviceTeardownReport TearDown(long revokedMappings)
    {
        try
        {
            return inner.TearDown(revokedMappings);
        }
        finally
        {
            ledger.TornDown(revokedMappings);
            faults.OnTeardown();
        }
    }
}
