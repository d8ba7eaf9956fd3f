namespace Netmem.Stack.Actors;

/// <summary>The kinds of <see cref="PacketDecision"/>.</summary>
public enum PacketDecisionKind
{
    /// <summary>Hold the packet for the behaviour's hold time.</summary>
    Hold,

    /// <summary>Release the packet now.</summary>
    Release,

    /// <summary>The decision callback took the packet and owns it.</summary>
    Taken,

    /// <summary>Hold the packet and stop reading and releasing for <see cref="PacketDecision.Pause"/>.</summary>
    Stall,
}
