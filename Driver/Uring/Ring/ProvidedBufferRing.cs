using System.Runtime.InteropServices;
using Netmem.Pool;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// The RX descriptor ring of one queue: a provided-buffer ring (IORING_REGISTER_PBUF_RING) the driver fills with
/// pool pages and the kernel takes from, one page per received packet.
/// </summary>
/// <remarks>
/// <para><b>Who writes what.</b> Entries and the 16-bit tail are ours; the head is the kernel's and lives in the
/// kernel. Posting writes an entry's addr, len and bid, then <em>release</em>-stores the tail: the kernel
/// acquire-loads the tail when it picks a buffer, so it never sees a half-written entry. The tail shares its bytes
/// with entry 0's <c>resv</c> field, so an entry is written field by field and <c>resv</c> is never touched.</para>
/// <para><b>Never overwriting an unread entry.</b> We cannot read the kernel's head, so we bound what is posted and
/// not yet completed by the ring's entry count: then tail − head ≤ entries always, and the slot a new post writes
/// was consumed already. A page is the kernel's from the tail publish until a completion names its bid.</para>
/// <para><b>Buffer ids.</b> The ring hands out bids from a free list; <see cref="_pageOfBid"/> maps a bid back to the
/// page posted under it. A bid is free again only once its completion was reaped or <see cref="TakeAllPosted"/>
/// took it back after the receive was stopped.</para>
/// <para><b>Lifetime.</b> The ring memory must outlive the registration: <see cref="Dispose"/> frees it only after
/// <see cref="Unregister"/>, and the queue unregisters only after the receive that selects from it ended.</para>
/// </remarks>
internal sealed unsafe class ProvidedBufferRing : IDisposable
{
    private const int TailOffset = 14;

    private readonly IoUringRing _ring;
    private readonly ushort _groupId;
    private readonly int _entries;
    private readonly nint _memory;
    private readonly NetmemRef[] _pageOfBid;
    private readonly Stack<ushort> _freeBids;
    private ushort _tail;
    private bool _registered;
    private bool _disposed;

    public ProvidedBufferRing(IoUringRing ring, ushort groupId, int entries)
    {
        _ring = ring;
        _groupId = groupId;
        _entries = entries;
        nuint bytes = (nuint)(entries * sizeof(IoUringBuf));
        _memory = (nint)NativeMemory.AlignedAlloc(bytes, (nuint)Environment.SystemPageSize);
        NativeMemory.Clear((void*)_memory, bytes);
        _pageOfBid = new NetmemRef[entries];
        _freeBids = new Stack<ushort>(Enumerable.Range(0, entries).Select(b => (ushort)b).Reverse());
    }

    /// <summary>The buffer group the receive selects from.</summary>
    public ushort GroupId => _groupId;

    /// <summary>Whether the ring memory was freed.</summary>
    internal bool IsMemoryFreed => _disposed;

    /// <summary>Pages posted and not yet completed.</summary>
    public int Posted => _entries - _freeBids.Count;

    /// <summary>Registers the ring with the kernel. Returns 0 or −errno.</summary>
    public int Register()
    {
        var reg = new IoUringBufReg { RingAddr = (ulong)_memory, RingEntries = (uint)_entries, Bgid = _groupId };
        int result = _ring.Register(IoUringAbi.RegisterPbufRing, &reg, 1);
        _registered = result >= 0;
        return result;
    }

    /// <summary>
    /// Removes the ring from the kernel at once (IORING_UNREGISTER_PBUF_RING never waits for users: the receive must
    /// have ended before). Returns 0 or −errno.
    /// </summary>
    public int Unregister()
    {
        if (!_registered)
        {
            return 0;
        }

        var reg = new IoUringBufReg { Bgid = _groupId };
        int result = _ring.Register(IoUringAbi.UnregisterPbufRing, &reg, 1);
        _registered = false;
        return result;
    }

    /// <summary>Posts <paramref name="page"/> at <paramref name="hostAddress"/>; false when every entry is in use.</summary>
    public bool TryPost(NetmemRef page, nint hostAddress, int length)
    {
        if (!_freeBids.TryPop(out ushort bid))
        {
            return false;
        }

        _pageOfBid[bid] = page;
        IoUringBuf* entry = (IoUringBuf*)_memory + (_tail & (_entries - 1));
        entry->Addr = (ulong)hostAddress;
        entry->Len = (uint)length;
        entry->Bid = bid;
        _tail++;

        // Release: the entry above is complete before the kernel can see the tail that covers it.
        Volatile.Write(ref *(ushort*)((byte*)_memory + TailOffset), _tail);
        return true;
    }

    /// <summary>
    /// The page a completion named by <paramref name="bid"/>, whose bid is free again; false when no page is posted
    /// under that id (a completion the ring cannot own).
    /// </summary>
    public bool TryComplete(ushort bid, out NetmemRef page)
    {
        page = bid < _entries ? _pageOfBid[bid] : default;
        if (page.IsDefault)
        {
            return false;
        }

        _pageOfBid[bid] = default;
        _freeBids.Push(bid);
        return true;
    }

    /// <summary>Takes back every page still posted (only once the receive ended and the ring is unregistered).</summary>
    public List<NetmemRef> TakeAllPosted()
    {
        var pages = new List<NetmemRef>(Posted);
        for (int bid = 0; bid < _entries; bid++)
        {
            if (!_pageOfBid[bid].IsDefault)
            {
                pages.Add(_pageOfBid[bid]);
                _pageOfBid[bid] = default;
                _freeBids.Push((ushort)bid);
            }
        }

        return pages;
    }

    /// <summary>
    /// Frees the ring memory, unless the kernel may still read it (the unregister failed): then it is left allocated
    /// on purpose, a small leak instead of the kernel reading freed memory.
    /// </summary>
    public void Dispose()
    {
        if (_registered || _disposed)
        {
            return;
        }

        _disposed = true;
        NativeMemory.AlignedFree((void*)_memory);
    }
}
