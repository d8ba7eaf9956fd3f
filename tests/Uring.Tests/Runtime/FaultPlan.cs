namespace Netmem.Uring.Tests.Runtime;

/// <summary>Faults a scenario plants in the receive side: a reap that throws once, after some frames were reaped.</summary>
internal sealed class FaultPlan
{
    private long _reaped;
    private int _crashesLeft;

    /// <summary>Frames reaped (through the oracle) so far, over every bind and driver incarnation.</summary>
    public long Reaped => Interlocked.Read(ref _reaped);

    /// <summary>Reap crashes that fired.</summary>
    public int ReapCrashes { get; private set; }

    /// <summary>Frames to reap before the planted crash fires; null: no crash.</summary>
    public long? CrashOnReapAfter { get; set; }

    /// <summary>Arms one reap crash, to fire once <see cref="CrashOnReapAfter"/> frames were reaped.</summary>
    public void ArmReapCrash(long afterFrames)
    {
        CrashOnReapAfter = afterFrames;
        Volatile.Write(ref _crashesLeft, 1);
    }

    internal bool TakeReapCrash()
    {
        if (CrashOnReapAfter is not { } after || Reaped < after || Interlocked.CompareExchange(ref _crashesLeft, 0, 1) != 1)
        {
            return false;
        }

        ReapCrashes++;
        return true;
    }

    internal void OnReaped(int frames) => Interlocked.Add(ref _reaped, frames);
}
