namespace Netmem.Chaos;

/// <summary>One fault the run injected: its kind and the operation it hit (stream and sequence number).</summary>
internal sealed record InjectedFault(FaultKind Kind, string Stream, long Sequence);
