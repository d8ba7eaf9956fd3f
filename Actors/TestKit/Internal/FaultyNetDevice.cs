using System.Collections.Concurrent;
using Netmem.Driver.Devices;

namespace Netmem.TestKit.Internal;

/// <summary>
/// Any <see cref="INetDevice"/> with the kit's seams in front: the scenario's faults, the ring ledger and a DMA
/// ledger per bind. It changes nothing a call does unless a fault is armed.
/// </summary>
internal sealed class FaultyNetDevice(INetDevice inner, FaultSwitches faults, RingLedger ring) : INetDevice
{
    private int _binds;

    public string Name => inner.Name;

    /// <summary>Contract breaches the DMA ledgers saw, in words, over every bind.</summary>
    public ConcurrentQueue<string> Violations { get; } = new();

    /// <summary>The ledger of the latest bind (null before the first).</summary>
    public DmaLedger? CurrentLedger { get; private set; }

    public IDeviceBinding Bind(DeviceBindContext context)
    {
        IDeviceBinding binding = inner.Bind(context);
        var ledger = new DmaLedger(inner.Name, Interlocked.Increment(ref _binds), Violations);
        CurrentLedger = ledger;
        return new FaultyBinding(binding, faults, ring, ledger, inner.Name);
    }
}
