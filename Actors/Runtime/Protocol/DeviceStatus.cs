using Akka.Actor;
using Netmem.Pool;

namespace Netmem.Actors.Protocol;

/// <summary>
/// A device's state, its bind generation, its current pools (introspected now) and its driver (null when it has
/// none: unbound, or the driver stopped after too many crashes), and, while an unbind waits on the device after a
/// timeout, what it waits for in words (<paramref name="WaitingFor"/>: which call, for how long).
/// </summary>
public sealed record DeviceStatus(string Device, DeviceState State, int Generation, IReadOnlyList<PagePoolInfo> Pools, IActorRef? Driver, string? WaitingFor = null);
