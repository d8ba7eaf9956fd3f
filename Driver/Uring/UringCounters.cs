namespace Netmem.Uring;

/// <summary>
/// What an io_uring device did, for tests, chaos runs and diagnostics. A binding's counters cover that bind; the
/// device's add up every bind so far.
/// </summary>
public readonly record struct UringCounters
{
    /// <summary>Pages installed in a registered-buffer slot (DMA maps): the kernel pinned each.</summary>
    public long Maps { get; init; }

    /// <summary>Slots cleared by a pool's unmap.</summary>
    public long Unmaps { get; init; }

    /// <summary>
    /// Completions the kernel posted with a cleared slot's tag: its proof that the page was unpinned, once, after its
    /// last use. After a clean teardown this equals <see cref="Unmaps"/> + <see cref="RevokedAtTeardown"/>.
    /// </summary>
    public long UnpinConfirmations { get; init; }

    /// <summary>Slots still installed at teardown and cleared with the domain.</summary>
    public long RevokedAtTeardown { get; init; }

    /// <summary>Frames the kernel wrote into pool pages and the device handed to the driver.</summary>
    public long FramesReceived { get; init; }

    /// <summary>Bytes in those frames.</summary>
    public long BytesReceived { get; init; }

    /// <summary>
    /// Errors the kernel returned from register and unregister calls and from submissions (a receive's arm, its
    /// cancel: EBADF, EINVAL, EFAULT, EBUSY, ENOMEM, ...); each is also a violation.
    /// </summary>
    public long KernelErrors { get; init; }

    /// <summary>
    /// Misuse the device refused: a page mapped or posted twice, an unknown or stale address, any call after teardown or
    /// close; and each close that timed out.
    /// </summary>
    public long MisuseViolations { get; init; }

    /// <summary>Every violation: <see cref="KernelErrors"/> + <see cref="MisuseViolations"/>.</summary>
    public long Violations => KernelErrors + MisuseViolations;

    /// <summary>Times the multishot receive ended because the posted pages ran out (ENOBUFS) and was armed again.</summary>
    public long EnobufsRearms { get; init; }

    /// <summary>Times a multishot receive was submitted (the first arm of each queue opening included).</summary>
    public long ReceiveArms { get; init; }

    /// <summary>Pages posted into provided-buffer rings.</summary>
    public long PagesPosted { get; init; }

    /// <summary>Pages the queues' Close returned to their pools (posted and unused, or written and not reaped).</summary>
    public long PagesReturnedByClose { get; init; }

    /// <summary>
    /// Datagrams (or frames) longer than a page: the kernel wrote only a page of each, so each was dropped whole and
    /// its page returned, never handed on cut.
    /// </summary>
    public long DatagramsTooLong { get; init; }

    /// <summary>
    /// Provided-buffer rings the kernel refused to unregister: their memory is left allocated for good (the kernel may
    /// still read it), never freed.
    /// </summary>
    public long BufferRingsLeaked { get; init; }

    /// <summary>
    /// Pages a close that timed out (the receive's last completion never came, or the driver's call never returned)
    /// left with the kernel: kept out of their pool for good rather than risk a late write into a page lent again.
    /// </summary>
    public long PagesLeftWithKernel { get; init; }

    /// <summary>Slots installed right now.</summary>
    public long LiveSlots { get; init; }

    /// <summary>Adds two sets of counts (the gauge <see cref="LiveSlots"/> too).</summary>
    public static UringCounters operator +(UringCounters a, UringCounters b) => new()
    {
        Maps = a.Maps + b.Maps,
        Unmaps = a.Unmaps + b.Unmaps,
        UnpinConfirmations = a.UnpinConfirmations + b.UnpinConfirmations,
        RevokedAtTeardown = a.RevokedAtTeardown + b.RevokedAtTeardown,
        FramesReceived = a.FramesReceived + b.FramesReceived,
        BytesReceived = a.BytesReceived + b.BytesReceived,
        KernelErrors = a.KernelErrors + b.KernelErrors,
        MisuseViolations = a.MisuseViolations + b.MisuseViolations,
        EnobufsRearms = a.EnobufsRearms + b.EnobufsRearms,
        ReceiveArms = a.ReceiveArms + b.ReceiveArms,
        PagesPosted = a.PagesPosted + b.PagesPosted,
        PagesReturnedByClose = a.PagesReturnedByClose + b.PagesReturnedByClose,
        DatagramsTooLong = a.DatagramsTooLong + b.DatagramsTooLong,
        BufferRingsLeaked = a.BufferRingsLeaked + b.BufferRingsLeaked,
        PagesLeftWithKernel = a.PagesLeftWithKernel + b.PagesLeftWithKernel,
        LiveSlots = a.LiveSlots + b.LiveSlots,
    };
}
