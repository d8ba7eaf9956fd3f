using Netmem.Actors.Protocol;

namespace Netmem.Actors.Devices;

/// <summary>The supervisor's timer: phase <paramref name="Phase"/> of unbind <paramref name="UnbindId"/> ran out of time.</summary>
internal sealed record PhaseTimedOut(long UnbindId, UnbindPhase Phase);
