using Netmem.Driver.Devices;
using Netmem.Pool.Dma;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// The DMA API of one RX queue, on the kernel's terms: a map installs the page in a slot of the ring's sparse
/// registered-buffer table (the kernel pins it), an unmap clears the slot (the kernel unpins it).
/// </summary>
/// <remarks>
/// <para><b>Why registered buffers are the DMA domain.</b> Registration is what makes the kernel hold a page for
/// device-style access: it pins it and keeps it until the slot is cleared and every I/O that used it finished
/// (rules 10–11 of the io_uring reference). A pool that forgets an unmap leaves the page pinned until the domain
/// goes, exactly the leak page_pool's destroy exists to prevent.</para>
/// <para><b>Tags as the oracle.</b> Every install carries a nonzero tag (marker, generation, slot). When a cleared
/// slot's page is really unpinned, the kernel posts a completion whose user_data is that tag. The table records the
/// tag of every clear in <see cref="_awaitingUnpin"/> and retires it when the completion arrives: a tag that arrives
/// twice or was never awaited is a violation, and teardown waits until nothing is awaited, so "unmapped exactly once,
/// after the last use" is checked by the kernel itself, not assumed.</para>
/// <para><b>Addresses.</b> The bus address names the slot and the install's generation:
/// <c>generation &lt;&lt; 40 | (slot + 1) &lt;&lt; 20</c> (pages are at most 1 MiB, so the low 20 bits stay free
/// for offsets). A stale address from a previous install of the same slot fails the generation check.</para>
/// <para><b>Threading.</b> Pools map and unmap from any thread; one lock orders the slot state and the register call
/// that changes it, so the table and the kernel's view never disagree. Maps and unmaps are the pool's slow path
/// (pages stay mapped while they recycle), so the lock is not on the per-packet path.</para>
/// <para><b>NeedsSync is false.</b> The kernel copies received data into the page with the CPU (copy_to_user), so
/// there is no non-coherent device cache to flush: the CPU that later reads the page sees the writes through the
/// completion's acquire ordering.</para>
/// </remarks>
internal sealed unsafe class RegisteredBufferTable : IDmaDevice
{
    /// <summary>Set in every tag, never in the receive's user_data, so the CQ consumer tells them apart.</summary>
    public const ulong TagMarker = 1UL << 62;

    private const int SlotShift = 20;
    private const int GenerationShift = 40;
    private const uint GenerationMask = 0xFF_FFFF;

    private readonly IoUringRing _ring;
    private readonly UringStatistics _stats;
    private readonly Lock _lock = new();
    private readonly nint[] _hostAddress;
    private readonly int[] _length;
    private readonly uint[] _generation;
    private readonly Stack<int> _freeSlots;
    private readonly Dictionary<nint, int> _slotOfAddress = new();
    private readonly HashSet<ulong> _awaitingUnpin = new();
    private bool _unbound;

    public RegisteredBufferTable(IoUringRing ring, int slots, string name, UringStatistics stats)
    {
        _ring = ring;
        _stats = stats;
        Name = name;
        Slots = slots;
        _hostAddress = new nint[slots];
        _length = new int[slots];
        _generation = new uint[slots];
        _freeSlots = new Stack<int>(Enumerable.Range(0, slots).Reverse());
    }

    public string Name { get; }

    public bool NeedsSync => false;

    public int Slots { get; }

    /// <summary>Slots installed right now.</summary>
    public int LiveSlots
    {
        get
        {
            lock (_lock)
            {
                return _slotOfAddress.Count;
            }
        }
    }

    /// <summary>Cleared slots whose unpin the kernel has not confirmed yet.</summary>
    public int AwaitingUnpin
    {
        get
        {
            lock (_lock)
            {
                return _awaitingUnpin.Count;
            }
        }
    }

    /// <summary>Registers the table: all slots empty (IORING_REGISTER_BUFFERS2 with IORING_RSRC_REGISTER_SPARSE).</summary>
    public void RegisterSparse()
    {
        var reg = new IoUringRsrcRegister { Nr = (uint)Slots, Flags = IoUringAbi.RsrcRegisterSparse };
        int result = _ring.Register(IoUringAbi.RegisterBuffers2, &reg, (uint)sizeof(IoUringRsrcRegister));
        if (result < 0)
        {
            throw new DeviceBindException(result == -Errno.ENOMEM
                ? $"Registering a table of {Slots} buffer slots ran over the locked-memory limit (ENOMEM)."
                : $"The kernel refused a sparse registered-buffer table of {Slots} slots (IORING_REGISTER_BUFFERS2, Linux 5.19+): {Errno.Describe(-result)}.");
        }
    }

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        lock (_lock)
        {
            ThrowIfUnbound("map");
            if (buffer.HostAddress == 0 || buffer.Length <= 0)
            {
                throw Violation($"A page without host memory ({buffer.Length} bytes at address 0) cannot be registered with the kernel.");
            }

            if (_slotOfAddress.TryGetValue(buffer.HostAddress, out int mappedSlot))
            {
                throw Violation($"The page at 0x{buffer.HostAddress:x} is already mapped in slot {mappedSlot}; a second map of a mapped page is refused.");
            }

            if (!_freeSlots.TryPop(out int slot))
            {
                throw new DmaMapException($"All {Slots} registered-buffer slots of {Name} are in use.");
            }

            uint generation = (_generation[slot] + 1) & GenerationMask;
            generation = generation == 0 ? 1 : generation;
            ulong tag = TagOf(slot, generation);
            var iov = new IoVec { Base = buffer.HostAddress, Length = (nuint)buffer.Length };
            int result = Update(slot, &iov, &tag);
            if (result < 0)
            {
                _freeSlots.Push(slot);
                Interlocked.Increment(ref _stats.KernelErrors);
                throw new DmaMapException(result == -Errno.ENOMEM
                    ? $"Pinning a page for {Name} ran over the locked-memory limit (ENOMEM)."
                    : $"The kernel refused to install a page in slot {slot} of {Name}: {Errno.Describe(-result)}.");
            }

            _generation[slot] = generation;
            _hostAddress[slot] = buffer.HostAddress;
            _length[slot] = buffer.Length;
            _slotOfAddress.Add(buffer.HostAddress, slot);
            Interlocked.Increment(ref _stats.Maps);
            return ((ulong)generation << GenerationShift) | ((ulong)(slot + 1) << SlotShift);
        }
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        lock (_lock)
        {
            ThrowIfUnbound("unmap");
            int slot = ResolveLiveSlot(dmaAddress, "unmap");
            if (length != _length[slot])
            {
                throw Violation($"Unmap of slot {slot} with {length} bytes, but it was mapped with {_length[slot]}.");
            }

            var iov = default(IoVec);
            ulong noTag = 0;
            int result = Update(slot, &iov, &noTag);
            if (result < 0)
            {
                // The slot stays installed in our books as in the kernel's, so teardown still clears it.
                Interlocked.Increment(ref _stats.KernelErrors);
                throw new IOException($"The kernel refused to clear slot {slot} of {Name}: {Errno.Describe(-result)}.");
            }

            _awaitingUnpin.Add(TagOf(slot, _generation[slot]));
            _slotOfAddress.Remove(_hostAddress[slot]);
            _hostAddress[slot] = 0;
            _freeSlots.Push(slot);
            Interlocked.Increment(ref _stats.Unmaps);
        }
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) => CheckSync(dmaAddress, offset, length);

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) => CheckSync(dmaAddress, offset, length);

    /// <summary>
    /// Whether <paramref name="dmaAddress"/> is a live install of the page at <paramref name="hostAddress"/>: a page
    /// the device may write into. Never throws.
    /// </summary>
    public bool IsMapped(ulong dmaAddress, nint hostAddress)
    {
        lock (_lock)
        {
            int slot = SlotOf(dmaAddress);
            return !_unbound && slot >= 0 && _hostAddress[slot] == hostAddress && GenerationOf(dmaAddress) == _generation[slot];
        }
    }

    /// <summary>Handles a completion whose user_data carries <see cref="TagMarker"/>: the kernel unpinned a page.</summary>
    public void OnUnpinConfirmed(ulong tag)
    {
        lock (_lock)
        {
            if (!_awaitingUnpin.Remove(tag))
            {
                Interlocked.Increment(ref _stats.MisuseViolations);
                return;
            }
        }

        Interlocked.Increment(ref _stats.UnpinConfirmations);
    }

    /// <summary>
    /// Unbinds the table: every later call is refused, and every slot still installed is cleared in one update
    /// (revoked with the domain). Returns how many were live.
    /// </summary>
    public int RevokeAll()
    {
        lock (_lock)
        {
            _unbound = true;
            int live = _slotOfAddress.Count;
            if (live == 0)
            {
                return 0;
            }

            int first = _slotOfAddress.Values.Min();
            int last = _slotOfAddress.Values.Max();
            int count = last - first + 1;

            // Empty iovecs clear a slot; clearing a slot that is already empty changes nothing, so one contiguous
            // update covers every live slot.
            var iovs = new IoVec[count];
            var tags = new ulong[count];
            int result;
            fixed (IoVec* iov = iovs)
            fixed (ulong* tag = tags)
            {
                var update = new IoUringRsrcUpdate2 { Offset = (uint)first, Data = (ulong)iov, Tags = (ulong)tag, Nr = (uint)count };
                result = _ring.Register(IoUringAbi.RegisterBuffersUpdate, &update, (uint)sizeof(IoUringRsrcUpdate2));
            }

            if (result < 0)
            {
                Interlocked.Increment(ref _stats.KernelErrors);
                return live;
            }

            foreach (int slot in _slotOfAddress.Values)
            {
                _awaitingUnpin.Add(TagOf(slot, _generation[slot]));
                _hostAddress[slot] = 0;
            }

            _slotOfAddress.Clear();
            Interlocked.Add(ref _stats.RevokedAtTeardown, live);
            return live;
        }
    }

    /// <summary>Removes the whole table from the ring (IORING_UNREGISTER_BUFFERS). Returns 0 or −errno, counting errors.</summary>
    public int Unregister()
    {
        int result = _ring.Register(IoUringAbi.UnregisterBuffers, null, 0);
        if (result < 0)
        {
            Interlocked.Increment(ref _stats.KernelErrors);
        }

        return result;
    }

    /// <summary>
    /// One raw slot update, counted as a kernel error when refused: the hook tests use to plant a kernel-side
    /// failure (an out-of-range slot, a closed ring). Returns the kernel's result.
    /// </summary>
    internal int UpdateRaw(int slot, nint hostAddress, int length, ulong tag)
    {
        var iov = new IoVec { Base = hostAddress, Length = (nuint)length };
        int result = Update(slot, &iov, &tag);
        if (result < 0)
        {
            Interlocked.Increment(ref _stats.KernelErrors);
        }

        return result;
    }

    private int Update(int slot, IoVec* iov, ulong* tag)
    {
        var update = new IoUringRsrcUpdate2 { Offset = (uint)slot, Data = (ulong)iov, Tags = (ulong)tag, Nr = 1 };
        return _ring.Register(IoUringAbi.RegisterBuffersUpdate, &update, (uint)sizeof(IoUringRsrcUpdate2));
    }

    private void CheckSync(ulong dmaAddress, int offset, int length)
    {
        lock (_lock)
        {
            ThrowIfUnbound("sync");
            int slot = ResolveLiveSlot(dmaAddress, "sync");
            if ((uint)offset > (uint)_length[slot] || (uint)length > (uint)(_length[slot] - offset))
            {
                throw Violation($"Sync of {offset}+{length} lies outside the {_length[slot]}-byte page in slot {slot}.");
            }
        }
    }

    private int ResolveLiveSlot(ulong dmaAddress, string operation)
    {
        int slot = SlotOf(dmaAddress);
        if (slot < 0 || _hostAddress[slot] == 0 || GenerationOf(dmaAddress) != _generation[slot])
        {
            throw Violation($"The {operation} names bus address 0x{dmaAddress:x}, which {Name} has not mapped (unknown, or already unmapped).");
        }

        return slot;
    }

    /// <summary>The slot a well-formed bus address names, or −1 (no check that it is installed: see <see cref="IsMapped"/>).</summary>
    public int SlotOf(ulong dmaAddress)
    {
        long slot = (long)((dmaAddress >> SlotShift) & 0xF_FFFF) - 1;
        bool wellFormed = (dmaAddress & ((1UL << SlotShift) - 1)) == 0;
        return wellFormed && slot >= 0 && slot < Slots ? (int)slot : -1;
    }

    private static uint GenerationOf(ulong dmaAddress) => (uint)(dmaAddress >> GenerationShift) & GenerationMask;

    private static ulong TagOf(int slot, uint generation) => TagMarker | ((ulong)generation << 16) | (uint)slot;

    private void ThrowIfUnbound(string operation)
    {
        if (_unbound)
        {
            throw Violation($"A {operation} on {Name} after the device was torn down is refused (call after unbind).");
        }
    }

    private InvalidOperationException Violation(string message)
    {
        Interlocked.Increment(ref _stats.MisuseViolations);
        return new InvalidOperationException(message);
    }
}
