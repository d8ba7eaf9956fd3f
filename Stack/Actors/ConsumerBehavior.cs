namespace Netmem.Stack.Actors;

/// <summary>
/// How a <see cref="SocketConsumerActor"/> treats what it reads; the seam tests and chaos runs use to make
/// applications that hold pages long, or crash while holding them.
/// </summary>
public sealed record ConsumerBehavior
{
    /// <summary>Releases every packet as soon as it is read.</summary>
    public static readonly ConsumerBehavior ReleaseAtOnce = new() { HoldTime = TimeSpan.Zero };

    /// <summary>Holds every packet until told <see cref="ReleaseHeld"/>.</summary>
    public static readonly ConsumerBehavior HoldUntilReleased = new() { HoldTime = null };

    /// <summary>How long each packet is held after it is read; null holds it until <see cref="ReleaseHeld"/>.</summary>
    public TimeSpan? HoldTime { get; init; } = TimeSpan.Zero;

    /// <summary>Packets read per turn of the actor before it yields to other messages.</summary>
    public int ReadBatch { get; init; } = 64;

    /// <summary>
    /// Called with the count of packets read so far (1, 2, …) as each packet is read, while the packet is already
    /// held; an exception crashes the consumer (its supervisor restarts or stops it, and the held pages go back).
    /// </summary>
    public Action<long>? OnPacketRead { get; init; }
}
