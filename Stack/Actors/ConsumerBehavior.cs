using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>
/// How a <see cref="SocketConsumerActor"/> treats what it reads: how long it holds each packet and how many at once,
/// and callbacks that decide per packet (hold, release, take, stall, or throw to crash the consumer) and see each
/// packet it lets go. The seam through which tests and chaos runs make applications that hold pages long, stall,
/// crash while holding them or misuse them, on the real consumer actors.
/// </summary>
/// <remarks>
/// Every callback runs inside the consumer actor, one packet at a time, and must not block. A callback that throws
/// crashes the consumer: the packet being decided is held at that moment, so the restart (or stop) gives it back
/// with every other held page, and the restarted consumer opens a fresh socket on the same flows.
/// </remarks>
public sealed record ConsumerBehavior
{
    /// <summary>Releases every packet as soon as it is read.</summary>
    public static readonly ConsumerBehavior ReleaseAtOnce = new() { HoldTime = TimeSpan.Zero };

    /// <summary>Holds every packet until told <see cref="ReleaseHeld"/>.</summary>
    public static readonly ConsumerBehavior HoldUntilReleased = new() { HoldTime = null };

    /// <summary>How long each packet is held after it is read; null holds it until <see cref="ReleaseHeld"/>.</summary>
    public TimeSpan? HoldTime { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// The most packets held at once: reading one more first releases the oldest (through <see cref="OnRelease"/>).
    /// Default: no limit.
    /// </summary>
    public int MaxHeld { get; init; } = int.MaxValue;

    /// <summary>Packets read per turn of the actor before it yields to other messages.</summary>
    public int ReadBatch { get; init; } = 64;

    /// <summary>
    /// Restarts allowed within a minute before the stack stops the consumer for good (its flows are then unbound and
    /// their packets dropped as having no socket). Null: restart after every crash. Default 10.
    /// </summary>
    public int? MaxRestartsPerMinute { get; init; } = 10;

    /// <summary>
    /// Called with the count of packets read so far (1, 2, …) as each packet is read, while the packet is already
    /// held; an exception crashes the consumer (its supervisor restarts or stops it, and the held pages go back).
    /// </summary>
    public Action<long>? OnPacketRead { get; init; }

    /// <summary>
    /// Decides each packet right after it is read (after <see cref="OnPacketRead"/>); null holds every packet for
    /// <see cref="HoldTime"/>. Returning <see cref="PacketDecision.Taken"/> hands the packet to the callback, which
    /// must dispose it; throwing crashes the consumer with the packet held (see the remarks).
    /// </summary>
    public Func<ReceivedPacket, PacketDecision>? DecidePacket { get; init; }

    /// <summary>
    /// Sees each packet the consumer lets go after its hold (or at once, or to make room under <see cref="MaxHeld"/>),
    /// instead of the consumer disposing it: return false to have the consumer dispose it, true when the callback took
    /// it (it disposes it, now or later). Packets given back by a crash, a stop or <see cref="ReleaseHeld"/> are
    /// disposed without it. It must not throw; if it does, the packet is disposed unless it already was.
    /// </summary>
    public Func<ReceivedPacket, bool>? OnRelease { get; init; }

    /// <summary>
    /// Called with each socket the consumer opens: one per incarnation (the first start and every restart). For
    /// counting what the socket dropped (<see cref="SocketConsumer.DroppedQueueFull"/>, <see cref="SocketConsumer.DrainedAtClose"/>, …);
    /// reading it behind the consumer's back takes packets from the application.
    /// </summary>
    public Action<SocketConsumer>? OnSocketOpened { get; init; }
}
