using Akka.Actor;
using Netmem.Pool;

namespace Netmem.Actors.Protocol;

/// <summary>
/// A device's state, its bind generation, its current pools (introspected now) and its driver (null when it has
/// none: unbound, or the driver stopped after too many crashes).
/// </summary>
public sealed record DeviceStatus(string Device, DeviceState State, int Generation, IReadOnlyList<PagePoolInfo> Pools, IActorRef? Driver);
