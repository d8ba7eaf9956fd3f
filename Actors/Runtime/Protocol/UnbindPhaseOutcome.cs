namespace Netmem.Actors.Protocol;

/// <summary>How one unbind phase ended.</summary>
public enum UnbindPhaseOutcome
{
    /// <summary>It did its work and answered in time.</summary>
    Completed,

    /// <summary>Quiesce only: the driver stopped (crashed, or had already stopped) instead of answering; stopping
    /// returned its ring pages, so the phase's goal is met.</summary>
    DriverStopped,

    /// <summary>It did not answer within its timeout; the unbind went on to the next phase.</summary>
    TimedOut,

    /// <summary>It answered with an error (the detail says which); the unbind went on to the next phase.</summary>
    Failed,
}
