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
    public long DatagramsTooLong;
    public long BufferRingsLeaked;
    public long PagesLeftWithKernel;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _problems = new();

    /// <summary>What went wrong in words, for the binding's report (a leak left on purpose, a refused unregister).</summary>
    public IReadOnlyList<string> Problems => _problems.ToArray();

    /// <summary>Records <paramref name="problem"/> for <see cref="Problems"/> (the slow paths only; keeps the first 100).</summary>
    public void Report(string problem)
    {
        if (_problems.Count < 100)
        {
            _problems.Enqueue(problem);
        }
    }

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
        DatagramsTooLong = Interlocked.Read(ref DatagramsTooLong),
        BufferRingsLeaked = Interlocked.Read(ref BufferRingsLeaked),
        PagesLeftWithKernel = Interlocked.Read(ref PagesLeftWithKernel),
        LiveSlots = liveSlots,
    };
}
