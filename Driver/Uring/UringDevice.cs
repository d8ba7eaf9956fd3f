using Netmem.Driver.Devices;
using Netmem.Uring.Interop;
using Netmem.Uring.Ring;

namespace Netmem.Uring;

/// <summary>
/// The real device: the Linux kernel, through io_uring, writes real packets into pool pages. DMA map and unmap are
/// installs and clears in a sparse registered-buffer table (the kernel pins and unpins the page); the RX ring is a
/// provided-buffer ring; the NIC writing a frame is a multishot receive on an AF_PACKET or UDP socket.
/// </summary>
/// <remarks>
/// Bind checks what the kernel offers and refuses in words (<see cref="DeviceBindException"/>): io_uring disabled or
/// not permitted, a missing feature or opcode, no permission for a packet socket, a locked-memory limit too small for
/// even the ring's pages, more than 16384 slots a queue. A process charged for the pages it pins (no CAP_IPC_LOCK)
/// gets fewer slots per queue than asked when the locked-memory limit cannot hold them all. One bind at a time.
/// </remarks>
public sealed class UringDevice : INetDevice
{
    private const uint SubmissionEntries = 8;

    private readonly Lock _lock = new();
    private UringCounters _endedBinds;
    private UringBinding? _current;

    /// <summary>Creates a device for <paramref name="options"/>; nothing is opened until <see cref="Bind"/>.</summary>
    public UringDevice(UringDeviceOptions options)
        : this(options, KernelUringSyscalls.Instance)
    {
    }

    /// <summary>A device whose rings call the kernel through <paramref name="syscalls"/> (specs fail chosen calls).</summary>
    internal UringDevice(UringDeviceOptions options, IUringSyscalls syscalls)
    {
        Syscalls = syscalls;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Name = options.Name ?? options.Source switch
        {
            PacketSource p => $"uring-{p.InterfaceName}",
            UdpSource u => $"uring-udp-{u.Endpoint.Port}",
            _ => "uring",
        };
    }

    /// <summary>The device name: <see cref="UringDeviceOptions.Name"/>, or "uring-" and the interface or UDP port.</summary>
    public string Name { get; }

    /// <summary>How the device's rings call the kernel.</summary>
    internal IUringSyscalls Syscalls { get; }

    /// <summary>The options the device was created with.</summary>
    public UringDeviceOptions Options { get; }

    /// <summary>The live binding, or null when unbound.</summary>
    public UringBinding? CurrentBinding
    {
        get
        {
            lock (_lock)
            {
                return _current is { IsTornDown: false } ? _current : null;
            }
        }
    }

    /// <summary>The counts of every bind so far, the live one included.</summary>
    public UringCounters GetCounters()
    {
        lock (_lock)
        {
            if (_current is { IsTornDown: true })
            {
                _endedBinds += _current.GetCounters();
                _current = null;
            }

            return _current is null ? _endedBinds : _endedBinds + _current.GetCounters();
        }
    }

    /// <summary>Binds the device for <paramref name="context"/>; <see cref="UringBinding"/> has the bind's details.</summary>
    IDeviceBinding INetDevice.Bind(DeviceBindContext context) => Bind(context);

    /// <summary>
    /// Opens a socket and an io_uring per RX queue, registers each queue's sparse buffer table and checks the
    /// kernel's support. Throws <see cref="DeviceBindException"/> with the cause in words; nothing stays open then.
    /// </summary>
    public UringBinding Bind(DeviceBindContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        lock (_lock)
        {
            if (_current is { IsTornDown: false })
            {
                throw new InvalidOperationException($"{Name} is already bound; tear the binding down before binding again.");
            }

            if (_current is not null)
            {
                _endedBinds += _current.GetCounters();
                _current = null;
            }

            _current = BindQueues(context);
            return _current;
        }
    }

    private UringBinding BindQueues(DeviceBindContext context)
    {
        int slots = Options.SlotsPerQueue;
        if (context.QueueCount < 1 || context.RingSize < 1 || context.PageSize < 1)
        {
            throw new DeviceBindException($"A bind needs at least one queue, one ring entry and a page size (asked: {context.QueueCount} queues, ring {context.RingSize}, pages of {context.PageSize} bytes).");
        }

        if (context.RingSize > slots || context.RingSize > IoUringAbi.MaxProvidedBufferEntries)
        {
            throw new DeviceBindException($"A ring of {context.RingSize} pages does not fit: every posted page needs a registered slot ({slots} per queue) and a provided-buffer ring holds at most {IoUringAbi.MaxProvidedBufferEntries}.");
        }

        KernelSupport.ThrowIfDisabled();
        (slots, string limits) = KernelSupport.FitSlotsToLockedMemory(slots, context.QueueCount, context.PageSize, context.RingSize, RingBytes(CompletionEntries(slots, context.RingSize), context.RingSize), Options.LockedMemoryShare);

        var stats = new UringStatistics();
        (FileDescriptorHandle[] sockets, int port) = RxSockets.Open(Options.Source, context.QueueCount, Options.SocketReceiveBufferBytes);
        var queues = new List<UringQueue>(context.QueueCount);
        try
        {
            uint cqEntries = CompletionEntries(slots, context.RingSize);
            for (int q = 0; q < context.QueueCount; q++)
            {
                IoUringRing ring = IoUringRing.Create(SubmissionEntries, cqEntries, Syscalls);
                var table = new RegisteredBufferTable(ring, slots, $"{Name}/rx{q}", stats);
                var queue = new UringQueue(q, ring, table, sockets[q], stats);
                queues.Add(queue);
                if (q == 0)
                {
                    KernelSupport.ThrowIfUnsupported(ring);
                    ProbeProvidedBufferRing(ring);
                }

                table.RegisterSparse();
            }

            return new UringBinding(queues.ToArray(), stats, Options, context.RingSize, port, limits);
        }
        catch
        {
            foreach (UringQueue queue in queues)
            {
                queue.Ring.Dispose();
            }

            RxSockets.CloseAll(sockets);
            throw;
        }
    }

    /// <summary>The CQ holds a burst of frames (twice the ring) plus every unpin confirmation a full table can produce.</summary>
    private static uint CompletionEntries(int slots, int ringSize) =>
        Math.Min((uint)IoUringAbi.MaxCompletionEntries, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(slots + (2 * ringSize) + 16)));

    /// <summary>
    /// An upper bound on the locked memory one queue's rings are charged, page by page: the SQ and CQ ring (16-byte
    /// completions, 4-byte indexes, a page of headers), the 64-byte submission entries, the provided-buffer ring's
    /// 16-byte entries.
    /// </summary>
    private static long RingBytes(uint cqEntries, int ringSize)
    {
        long page = Environment.SystemPageSize;
        long RoundUp(long bytes) => (bytes + page - 1) / page * page;
        return RoundUp((cqEntries * 16L) + (SubmissionEntries * 4L) + page) + RoundUp(SubmissionEntries * 64L) + RoundUp(ringSize * 16L);
    }

    /// <summary>Registers and unregisters a one-entry provided-buffer ring: the only way to ask whether the kernel has them.</summary>
    private static void ProbeProvidedBufferRing(IoUringRing ring)
    {
        var probe = new ProvidedBufferRing(ring, ushort.MaxValue, 1, 1);
        int result = probe.Register();
        probe.Unregister();
        probe.Dispose();
        if (result < 0)
        {
            throw new DeviceBindException($"The kernel's io_uring lacks provided-buffer rings (IORING_REGISTER_PBUF_RING, Linux 5.19+): {Errno.Describe(-result)}.");
        }
    }
}
