namespace Netmem.Uring.Ring;

/// <summary>The running counts of one binding, bumped from any thread; read as a <see cref="UringCounters"/>.</summary>
internal sealed class UringStatistics
{
    public long Maps;
    public long Unmaps;
    public long UnpinConfirmations;
    public long RevokedAtTeardown;
    public long FramesReceived;
    public long BytesReceived;
    public long KernelErrors;
    public long MisuseViolations;
    public long EnobufsRearms;
    public long ReceiveArms;
    public long PagesPosted;
    public long PagesReturnedByClose;

    public UringCounters Snapshot(long liveSlots) => new()
    {
        Maps = Interlocked.Read(ref Maps),
        Unmaps = Interlocked.Read(ref Unmaps),
        UnpinConfirmations = Interlocked.Read(ref UnpinConfirmations),
        RevokedAtTeardown = Interlocked.Read(ref RevokedAtTeardown),
        FramesReceived = Interlocked.Read(ref FramesReceived),
        BytesReceived = Interlocked.Read(ref BytesReceived),
        KernelErrors = Interlocked.Read(ref KernelErrors),
        MisuseViolations = Interlocked.Read(ref MisuseViolations),
        EnobufsRearms = Interlocked.Read(ref EnobufsRearms),
        ReceiveArms = Interlocked.Read(ref ReceiveArms),
        PagesPosted = Interlocked.Read(ref PagesPosted),
        PagesReturnedByClose = Interlocked.Read(ref PagesReturnedByClose),
        LiveSlots = liveSlots,
    };
}
