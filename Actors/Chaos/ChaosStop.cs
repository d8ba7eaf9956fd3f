using System.Runtime.InteropServices;

namespace Netmem.Chaos;

/// <summary>What asked a chaos run to stop before its time.</summary>
internal enum ChaosStopReason
{
    /// <summary>Nothing: the run goes its full length.</summary>
    None,

    /// <summary>SIGINT (Ctrl-C); the command exits 128 + 2.</summary>
    Interrupt,

    /// <summary>SIGTERM (a service manager, <c>kill</c>, a container stop); the command exits 128 + 15.</summary>
    Terminate,
}

/// <summary>
/// The way a chaos run is stopped early: a cancellation token the run watches, and the reason it was cancelled
/// (which gives the command its exit code). <see cref="ListenToProcessSignals"/> wires it to SIGINT and SIGTERM;
/// a test makes one with <c>new()</c> and calls <see cref="Request"/>, the very method the signal handlers call.
/// </summary>
/// <remarks>
/// The first signal does not end the process: its handler cancels the default action, so the run stops its
/// traffic, still unbinds every device, drains, audits and prints its report marked CANCELLED, and only then does
/// the command return its exit code. A second signal is left to its default action and ends the process at once,
/// for a user who does not want to wait for the clean shutdown.
/// </remarks>
internal sealed class ChaosStop : IDisposable
{
    public const int ExitInterrupted = 128 + 2;
    public const int ExitTerminated = 128 + 15;

    private readonly CancellationTokenSource _cancellation = new();
    private readonly List<PosixSignalRegistration> _registrations = new();
    private int _reason;

    /// <summary>Cancelled on the first <see cref="Request"/>.</summary>
    public CancellationToken Token => _cancellation.Token;

    /// <summary>The first reason asked for, or <see cref="ChaosStopReason.None"/>.</summary>
    public ChaosStopReason Reason => (ChaosStopReason)Volatile.Read(ref _reason);

    /// <summary>A stop raised by SIGINT and SIGTERM for as long as it is not disposed.</summary>
    public static ChaosStop ListenToProcessSignals()
    {
        var stop = new ChaosStop();
        stop._registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, stop.OnSignal));
        stop._registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, stop.OnSignal));
        return stop;
    }

    /// <summary>The exit code of a run stopped for <paramref name="reason"/>: 128 + the signal's number.</summary>
    public static int ExitCodeOf(ChaosStopReason reason) => reason switch
    {
        ChaosStopReason.Terminate => ExitTerminated,
        _ => ExitInterrupted,
    };

    /// <summary>Asks the run to stop; the first request wins and returns true, later ones change nothing.</summary>
    public bool Request(ChaosStopReason reason)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(reason, ChaosStopReason.None);
        if (Interlocked.CompareExchange(ref _reason, (int)reason, (int)ChaosStopReason.None) != (int)ChaosStopReason.None)
        {
            return false;
        }

        _cancellation.Cancel();
        return true;
    }

    /// <summary>
    /// The signal handler: the first signal becomes a request and keeps the process alive for the clean shutdown;
    /// a second one keeps its default action.
    /// </summary>
    public void OnSignal(PosixSignalContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        ChaosStopReason reason = context.Signal == PosixSignal.SIGTERM ? ChaosStopReason.Terminate : ChaosStopReason.Interrupt;
        context.Cancel = Request(reason);
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }

        _registrations.Clear();
        _cancellation.Dispose();
    }
}
