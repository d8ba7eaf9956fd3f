using System.Diagnostics;
using Akka.Actor;
using Netmem.Actors.Protocol;
using Netmem.Pool;

namespace Netmem.Actors.Devices;

/// <summary>The state of one unbind in progress: who is waiting, which phase runs, what the phases found.</summary>
internal sealed class UnbindRun
{
    private long _phaseStarted;

    public UnbindRun(long id)
    {
        Id = id;
        StartedAt = DateTimeOffset.UtcNow;
        Started = Stopwatch.GetTimestamp();
    }

    public long Id { get; }

    public DateTimeOffset StartedAt { get; }

    public long Started { get; }

    public List<IActorRef> Waiters { get; } = new();

    public UnbindPhase Phase { get; private set; }

    /// <summary>Closing the receive sides outlived its timeout; the run still waits for it.</summary>
    public bool CloseReceiveLate { get; set; }

    public List<UnbindPhaseResult> Results { get; } = new();

    public SortedDictionary<int, PagePoolDestroyReport> DestroyReports { get; } = new();

    public HashSet<IActorRef> PoolsToAnswer { get; } = new();

    public List<string> Failures { get; } = new();

    public long RingPagesReturned { get; set; }

    public Netmem.Driver.Devices.DeviceTeardownReport? Teardown { get; set; }

    /// <summary>A phase timed out and the device's access was revoked; the run waits for the calls inside to return.</summary>
    public bool Revoked { get; set; }

    /// <summary>The pools' final count of mappings left to the domain, as the teardown was told it.</summary>
    public long RevokedAtTeardown { get; set; }

    /// <summary>The teardown call has been started (once no other call was inside the device).</summary>
    public bool TeardownStarted { get; set; }

    /// <summary>The teardown outlived its timeout; the run still waits for it.</summary>
    public bool TeardownLate { get; set; }

    /// <summary>When the run last said which device call it waits for.</summary>
    public long LastStuckReport { get; set; }

    public void Begin(UnbindPhase phase)
    {
        Phase = phase;
        _phaseStarted = Stopwatch.GetTimestamp();
    }

    public void End(UnbindPhaseOutcome outcome, string? detail) =>
        Results.Add(new UnbindPhaseResult(Phase, outcome, Stopwatch.GetElapsedTime(_phaseStarted), detail));
}
