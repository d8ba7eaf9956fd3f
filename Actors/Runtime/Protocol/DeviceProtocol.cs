using Akka.Actor;
using Netmem.Pool;

namespace Netmem.Actors.Protocol;

// The device supervisor's protocol: what users send it (Bind, Unbind, GetDeviceStatus) and what it answers.

/// <summary>
/// Asks a <see cref="Devices.DeviceSupervisor"/> to bind its device: a fresh DMA domain, new pools (one per RX
/// queue) and a new driver. Replies <see cref="Bound"/>. Binding a bound device replies the current
/// <see cref="Bound"/>; a bind that arrives during an unbind waits for it to finish.
/// </summary>
public sealed record Bind
{
    /// <summary>The one instance (the message carries nothing).</summary>
    public static readonly Bind Instance = new();

    private Bind()
    {
    }
}

/// <summary>The device is bound. <paramref name="Generation"/> numbers bind attempts (1, 2, …; a refused bind uses one up); the pools are by queue.</summary>
public sealed record Bound(string Device, int Generation, IReadOnlyList<PagePoolInfo> Pools);

/// <summary>
/// Asks a <see cref="Devices.DeviceSupervisor"/> to unbind its device: driver quiesce, every pool destroyed (every
/// inflight page unmapped, or revoked after a timeout), DMA domain torn down, then, and only then, the reply <see cref="Unbound"/>. Every
/// request made while an unbind runs, and every later one until the next bind, gets the same <see cref="Unbound"/>.
/// </summary>
public sealed record Unbind
{
    /// <summary>The one instance (the message carries nothing).</summary>
    public static readonly Unbind Instance = new();

    private Unbind()
    {
    }
}

/// <summary>
/// The device is unbound: when this is sent, no pool of the device will ever call the device again, and every
/// page the device's pools lent was unmapped or reclaimed (or the report says which phase failed to make it so).
/// </summary>
public sealed record Unbound(UnbindReport Report);

/// <summary>Asks a device supervisor for its <see cref="DeviceStatus"/>.</summary>
public sealed record GetDeviceStatus
{
    /// <summary>The one instance (the message carries nothing).</summary>
    public static readonly GetDeviceStatus Instance = new();

    private GetDeviceStatus()
    {
    }
}

/// <summary>
/// A device's state, its bind generation, its current pools (introspected now) and its driver (null when it has
/// none: unbound, or the driver stopped after too many crashes), and, while an unbind waits on the device after a
/// timeout, what it waits for in words (<paramref name="WaitingFor"/>: which call, for how long), and when the
/// unbind in progress started (<paramref name="UnbindingSince"/>; null when none runs).
/// </summary>
public sealed record DeviceStatus(
    string Device,
    DeviceState State,
    int Generation,
    IReadOnlyList<PagePoolInfo> Pools,
    IActorRef? Driver,
    string? WaitingFor = null,
    DateTimeOffset? UnbindingSince = null);

/// <summary>
/// Asks a device supervisor for its current pools themselves (<see cref="DevicePools"/>), for code that audits or
/// introspects them in process; <see cref="GetDeviceStatus"/> gives their <see cref="PagePoolInfo"/> snapshots.
/// </summary>
public sealed record GetDevicePools
{
    /// <summary>The one instance (the message carries nothing).</summary>
    public static readonly GetDevicePools Instance = new();

    private GetDevicePools()
    {
    }
}

/// <summary>
/// A device's current pools by queue (empty when it is not bound), of bind <paramref name="Generation"/>. While an
/// unbind runs they are the pools being destroyed. The objects are live: their state and counters move on.
/// </summary>
public sealed record DevicePools(string Device, int Generation, IReadOnlyList<PagePool> Pools);
