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
/// page posted under it. A bid is free again only once its completion was consumed or <see cref="TakeAllPosted"/>
/// took it back after the receive was stopped.</para>
/// <para><b>One bid per page.</b> Each post names the page's key (its registered-buffer slot, unique among mapped
/// pages), and <see cref="_bidOfKey"/> remembers the bid it is posted under. A page posted twice would have two
/// bids: after the first completion it goes up the stack while the kernel can still write into it through the
/// second. <see cref="IsPosted"/> lets the queue refuse that before anything is written.</para>
/// <para><b>Lifetime.</b> The ring memory must outlive the registration: <see cref="Dispose"/> frees it only after
/// an <see cref="Unregister"/> the kernel accepted. When the kernel refuses, the ring stays registered as far as we
/// know, and the memory is never freed: a leak, counted and reported by the queue, instead of the kernel reading
/// freed memory.</para>
/// </remarks>
internal sealed unsafe class ProvidedBufferRing : IDisposable
{
    private const int TailOffset = 14;

    private readonly IoUringRing _ring;
    private readonly ushort _groupId;
    private readonly int _entries;
    private readonly nint _memory;
    private readonly NetmemRef[] _pageOfBid;
    private readonly int[] _lengthOfBid;
    private readonly int[] _keyOfBid;
    private readonly int[] _bidOfKey;
    private readonly Stack<ushort> _freeBids;
    private ushort _tail;
    private bool _registered;
    private bool _disposed;

    /// <summary>A ring of <paramref name="entries"/> (a power of two) for pages whose keys are below <paramref name="keys"/>.</summary>
    public ProvidedBufferRing(IoUringRing ring, ushort groupId, int entries, int keys)
    {
        _ring = ring;
        _groupId = groupId;
        _entries = entries;
        nuint bytes = (nuint)(entries * sizeof(IoUringBuf));
        _memory = (nint)NativeMemory.AlignedAlloc(bytes, (nuint)Environment.SystemPageSize);
        NativeMemory.Clear((void*)_memory, bytes);
        _pageOfBid = new NetmemRef[entries];
        _lengthOfBid = new int[entries];
        _keyOfBid = new int[entries];
        _bidOfKey = new int[keys];
        _bidOfKey.AsSpan().Fill(-1);
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
    /// have ended before). Returns 0 or −errno; on −errno the ring counts as still registered, so its memory is never
    /// freed.
    /// </summary>
    public int Unregister()
    {
        if (!_registered)
        {
            return 0;
        }

        var reg = new IoUringBufReg { Bgid = _groupId };
        int result = _ring.Register(IoUringAbi.UnregisterPbufRing, &reg, 1);
        _registered = result < 0;
        return result;
    }

    /// <summary>Whether the page with <paramref name="key"/> is posted and not yet completed.</summary>
    public bool IsPosted(int key) => _bidOfKey[key] >= 0;

    /// <summary>
    /// Posts <paramref name="page"/> (key <paramref name="key"/>, not posted) at <paramref name="hostAddress"/>;
    /// false when every entry is in use.
    /// </summary>
    public bool TryPost(NetmemRef page, nint hostAddress, int length, int key)
    {
        if (!_freeBids.TryPop(out ushort bid))
        {
            return false;
        }

        _pageOfBid[bid] = page;
        _lengthOfBid[bid] = length;
        _keyOfBid[bid] = key;
        _bidOfKey[key] = bid;
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
    /// The page a completion named by <paramref name="bid"/> and its posted length; the bid is free again. False
    /// when no page is posted under that id (a completion the ring cannot own).
    /// </summary>
    public bool TryComplete(ushort bid, out NetmemRef page, out int length)
    {
        page = bid < _entries ? _pageOfBid[bid] : default;
        if (page.IsDefault)
        {
            length = 0;
            return false;
        }

        length = _lengthOfBid[bid];
        Free(bid);
        return true;
    }

    /// <summary>Takes back every page still posted (only once the receive ended).</summary>
    public List<NetmemRef> TakeAllPosted()
    {
        var pages = new List<NetmemRef>(Posted);
        for (int bid = 0; bid < _entries; bid++)
        {
            if (!_pageOfBid[bid].IsDefault)
            {
                pages.Add(_pageOfBid[bid]);
                Free((ushort)bid);
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

    private void Free(ushort bid)
    {
        _pageOfBid[bid] = default;
        _bidOfKey[_keyOfBid[bid]] = -1;
        _freeBids.Push(bid);
    }
}
