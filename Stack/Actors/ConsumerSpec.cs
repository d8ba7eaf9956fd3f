using Netmem.Stack.Parsing;

namespace Netmem.Stack.Actors;

/// <summary>One application socket: its name, the flows bound to it, its queue capacity and its behaviour.</summary>
public sealed record ConsumerSpec(string Name, IReadOnlyList<FlowKey> Flows, int QueueCapacity, ConsumerBehavior Behavior);
