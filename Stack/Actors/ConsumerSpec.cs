using Netmem.Stack.Parsing;

namespace Netmem.Stack.Actors;

/// <summary>One application socket: its name, the flows bound to it, its queue capacity and its behaviour.</summary>
public sealed record ConsumerSpec(string Name, IReadOnlyList<FlowKey> Flows, int QueueCapacity, ConsumerBehavior Behavior)
{
    /// <summary>
    /// Also receive every parsed packet of a flow no consumer is bound to (one consumer at a time may; a capture of a
    /// whole interface uses it). A consumer that takes unmatched flows needs no flow of its own.
    /// </summary>
    public bool TakesUnmatchedFlows { get; init; }
}
