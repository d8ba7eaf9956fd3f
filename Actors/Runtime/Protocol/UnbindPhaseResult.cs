namespace Netmem.Actors.Protocol;

/// <summary>One phase of an unbind: how it ended, how long it took, and any detail worth reading.</summary>
public sealed record UnbindPhaseResult(UnbindPhase Phase, UnbindPhaseOutcome Outcome, TimeSpan Duration, string? Detail);
