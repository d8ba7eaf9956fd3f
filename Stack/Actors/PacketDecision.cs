namespace Netmem.Stack.Actors;

/// <summary>
/// What a <see cref="SocketConsumerActor"/> does with one packet it has just read, as its
/// <see cref="ConsumerBehavior.DecidePacket"/> says: hold it (for the behaviour's hold time), release it now, leave it
/// to the callback that took it, or hold it and stop reading for a while (a stalled application).
/// </summary>
public readonly record struct PacketDecision
{
    private PacketDecision(PacketDecisionKind kind, TimeSpan pause)
    {
        Kind = kind;
        Pause = pause;
    }

    /// <summary>Hold the packet for <see cref="ConsumerBehavior.HoldTime"/> (what the consumer does without a decision).</summary>
    public static PacketDecision Hold { get; } = new(PacketDecisionKind.Hold, TimeSpan.Zero);

    /// <summary>Release the packet now (through <see cref="ConsumerBehavior.OnRelease"/>), whatever the hold time.</summary>
    public static PacketDecision Release { get; } = new(PacketDecisionKind.Release, TimeSpan.Zero);

    /// <summary>The callback took the packet: from now on it owns it and must dispose it; the consumer forgets it.</summary>
    public static PacketDecision Taken { get; } = new(PacketDecisionKind.Taken, TimeSpan.Zero);

    /// <summary>What to do.</summary>
    public PacketDecisionKind Kind { get; }

    /// <summary>For <see cref="PacketDecisionKind.Stall"/>: how long the consumer neither reads nor releases.</summary>
    public TimeSpan Pause { get; }

    /// <summary>
    /// Hold the packet, then stall for <paramref name="pause"/>: no packet is read and none released until it passes,
    /// so every page the consumer holds stays held (its socket queue fills and drops meanwhile).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pause"/> is negative.</exception>
    public static PacketDecision Stall(TimeSpan pause)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pause, TimeSpan.Zero);
        return new PacketDecision(PacketDecisionKind.Stall, pause);
    }
}
