namespace Netmem.Uring;

/// <summary>How an io_uring device is set up. The queue count and ring size come from each bind.</summary>
public sealed record UringDeviceOptions
{
    /// <summary>Where packets come from: <see cref="UringSource.Packet"/> or <see cref="UringSource.Udp"/>.</summary>
    public required UringSource Source { get; init; }

    /// <summary>The device name (its pools and actors are named after it). Defaults to "uring-" and the source.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Registered-buffer slots per RX queue: the most pages one queue's pool may have mapped at once. At most 16384
    /// (the kernel's limit). Default 4096. A process charged for the pages it pins (without CAP_IPC_LOCK) gets fewer
    /// at bind when RLIMIT_MEMLOCK cannot hold them all, never fewer than the ring's pages (see
    /// <see cref="UringBinding.LockedMemoryReport"/>).
    /// </summary>
    public int SlotsPerQueue { get; init; } = 4096;

    /// <summary>
    /// The part of the user's locked-memory limit (RLIMIT_MEMLOCK) one bind of this device may be charged, for a
    /// process the kernel charges for pinned pages (without CAP_IPC_LOCK): 1, the default, fits a bind to the whole
    /// limit; a process that binds N devices at once gives each 1/N, since the limit is one for all of them. From
    /// more than 0 to 1; not used when the process is not charged.
    /// </summary>
    public double LockedMemoryShare { get; init; } = 1;

    /// <summary>Socket receive buffer to ask for (SO_RCVBUF), 0 to keep the system default. Default 4 MiB.</summary>
    public int SocketReceiveBufferBytes { get; init; } = 4 << 20;

    /// <summary>How long a queue's Close waits for the cancelled receive's last completion. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long teardown waits for the kernel to confirm every unpin. Default 5 s.</summary>
    public TimeSpan TeardownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Source);
        if (SlotsPerQueue < 1 || SlotsPerQueue > Interop.IoUringAbi.MaxRegisteredBuffers)
        {
            throw new ArgumentOutOfRangeException(nameof(SlotsPerQueue), SlotsPerQueue, $"Slots per queue must be from 1 to {Interop.IoUringAbi.MaxRegisteredBuffers}.");
        }

        if (!(LockedMemoryShare > 0 && LockedMemoryShare <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(LockedMemoryShare), LockedMemoryShare, "The locked-memory share must be more than 0 and at most 1.");
        }

        if (SocketReceiveBufferBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(SocketReceiveBufferBytes), SocketReceiveBufferBytes, "The socket receive buffer cannot be negative.");
        }

        if (CloseTimeout <= TimeSpan.Zero || TeardownTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(CloseTimeout), "The close and teardown timeouts must be positive.");
        }

        if (Source is UdpSource udp && udp.Endpoint.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new ArgumentException("The UDP source takes an IPv4 address.", nameof(Source));
        }
    }
}
