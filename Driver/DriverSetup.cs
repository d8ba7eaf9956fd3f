using Akka.Actor;
using Netmem.Driver.Devices;
using Netmem.Pool;

namespace Netmem.Driver;

/// <summary>
/// What one bind gives the driver: the device binding (the receive side of each queue), one pool per RX queue (index = queue) and, per queue, the
/// stack actor that receives its batches. The pools' allocation side belongs to the driver until it quiesces.
/// Use one setup per bind: the driver keeps what must survive its restarts in it.
/// </summary>
public sealed record DriverSetup(
    string Device,
    IDeviceBinding Binding,
    IReadOnlyList<PagePool> Pools,
    IReadOnlyList<IActorRef> StackQueues,
    DriverOptions Options)
{
    /// <summary>What survives driver restarts within this bind (a new bind makes a new setup).</summary>
    internal DriverLifetime Lifetime { get; } = new(Pools.Count);
}
