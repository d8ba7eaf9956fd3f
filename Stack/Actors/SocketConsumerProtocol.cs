using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

// The socket consumer actor's protocol: the answer to its opening, status, releasing what it holds, and its socket's wake-up.

/// <summary>Asks a consumer for its <see cref="ConsumerStatus"/>.</summary>
public sealed record GetConsumerStatus
{
    /// <summary>The one instance (the message carries nothing).</summary>
    public static readonly GetConsumerStatus Instance = new();

    private GetConsumerStatus()
    {
    }
}

/// <summary>
/// A consumer's figures for its current incarnation: packets read, packets held now, and its socket's counters
/// (queued now, delivered, dropped because the queue was full).
/// </summary>
public sealed record ConsumerStatus(string Consumer, long Read, int Held, int Queued, long Delivered, long DroppedQueueFull);

/// <summary>
/// Tells a consumer to dispose every packet delivered to it so far: those it holds, and those still queued on its
/// socket, which it reads first (unless stalled); it replies <see cref="HeldReleased"/>.
/// </summary>
public sealed record ReleaseHeld
{
    /// <summary>The one instance (the message carries nothing).</summary>
    public static readonly ReleaseHeld Instance = new();

    private ReleaseHeld()
    {
    }
}

/// <summary>A consumer disposed <paramref name="Released"/> held packets, returning their pages.</summary>
public sealed record HeldReleased(string Consumer, int Released);

/// <summary>A consumer's timer tick that releases packets whose hold time has passed.</summary>
internal sealed record ReleaseExpired
{
    public static readonly ReleaseExpired Instance = new();

    private ReleaseExpired()
    {
    }
}

/// <summary>A consumer's timer that ends a stall (<see cref="PacketDecision.Stall"/>).</summary>
internal sealed record ResumeReading
{
    public static readonly ResumeReading Instance = new();

    private ResumeReading()
    {
    }
}

/// <summary>A consumer's own socket has packets to read (<paramref name="Open"/>) or was closed.</summary>
internal sealed record SocketReadable(SocketConsumer Socket, bool Open);

/// <summary>The stack asks a new consumer to say, with <see cref="ConsumerOpened"/>, that it has started (see <see cref="NetworkStackActor"/>).</summary>
internal sealed record AnnounceOpened
{
    public static readonly AnnounceOpened Instance = new();

    private AnnounceOpened()
    {
    }
}
