namespace Netmem.Stack.Sockets;

/// <summary>Where <see cref="FlowDemultiplexer"/> sent a packet. Every outcome but <see cref="Queued"/> has returned its buffer.</summary>
public enum DispatchOutcome
{
    /// <summary>Queued on the flow's consumer (or the unmatched consumer).</summary>
    Queued,

    /// <summary>No consumer is bound to the flow and there is no unmatched consumer.</summary>
    DroppedNoSocket,

    /// <summary>The parser did not finish (<see cref="Parsing.ParseStatus"/> is not Ok), so there is no flow to look up.</summary>
    DroppedNotParsed,

    /// <summary>The consumer refused it: its queue was full or it was closed.</summary>
    DroppedByConsumer,
}
