using System.Diagnostics.CodeAnalysis;
using Netmem.Pool.Core;
using Netmem.Pool.Misuse;

namespace Netmem.Pool;

// Fragments: one page split into slices (the kernel's page_pool_alloc_frag and pp_ref_count).
//
// The kernel counts live slices in pp_ref_count, biased while the owner is still carving, so a double return of a
// slice goes unnoticed until the count underflows. Here the count is a bitmap instead: a page is split into at most
// 32 granules (PageSize / 32 bytes each), each slice starts on its own granule, and the page's fragment word holds one
// bit per live slice, a "carving" bit while the owner may still cut slices from it, and the page's generation.
// Returning a slice clears its bit by compare-and-swap after checking the generation and that the bit is set, so a
// double or stale slice return is refused exactly, before it changes anything. Whoever leaves the word with no slice
// and no carving bit (the last returner, or the owner when it stops carving) recycles the page, or releases it when
// that owner is destroy: exactly one party, because only one swap can produce that value. The page as a whole stays
// "lent as fragments" until then, so it cannot be returned whole by mistake.
public sealed partial class PagePool
{
    private const int SlicesPerPage = 32;
    private const long CarvingBit = 1L << 32;
    private const long SliceBits = 0xFFFF_FFFFL;
    private const int FragmentGenerationShift = 33;

    /// <summary>Bytes per granule; slices start on granule boundaries.</summary>
    public int FragmentGranule => _pageSize / SlicesPerPage;

    /// <summary>
    /// Allocates a slice of <paramref name="length"/> bytes (owner only), cut from the page being carved or from a
    /// newly allocated page when it does not fit.
    /// </summary>
    public NetmemFragment AllocateFragment(int length)
    {
        if (length <= 0 || length > _pageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A fragment is 1..{_pageSize} bytes.");
        }

        _ownerSection.Enter();
        try
        {
            ThrowIfCannotAllocate();
            int granules = (length + FragmentGranule - 1) / FragmentGranule;
            if (_fragmentItemId < 0 || _fragmentNextGranule + granules > SlicesPerPage)
            {
                StopCarving();
                StartCarving();
            }

            int first = _fragmentNextGranule;
            _fragmentNextGranule += granules;
            ItemBlock block = ItemBlockTable.BlockOf(_fragmentItemId, out int index);
            Interlocked.Or(ref block.Pages[index].FragmentWord, 1L << first);
            var page = new NetmemRef(_fragmentItemId, _fragmentGeneration, _unreadable);
            return new NetmemFragment(page, first * FragmentGranule, length);
        }
        finally
        {
            _ownerSection.Leave();
        }
    }

    /// <summary>Returns a slice from any thread; the page recycles through the ring when its last slice is back.</summary>
    public void ReturnFragment(NetmemFragment fragment) => ReturnSlice(fragment, allowDirect: false);

    /// <summary>Returns a slice from the owner's context; the page recycles into the alloc cache when its last slice is back.</summary>
    public void ReturnFragmentDirect(NetmemFragment fragment) => ReturnSlice(fragment, allowDirect: true);

    internal unsafe Span<byte> GetFragmentSpan(NetmemFragment fragment)
    {
        (ItemBlock block, int index) = ResolveOwned(fragment.Page);
        ThrowIfUnreadable(fragment.Page);
        ValidateSliceBounds(fragment);
        long word = Volatile.Read(ref block.Pages[index].FragmentWord);
        if (FragmentGenerationOf(word) != fragment.Page.Generation || (word & SliceBit(fragment)) == 0)
        {
            throw new UseAfterReturnException($"Fragment at {fragment.Offset} of {fragment.Page} was already returned.");
        }

        nint address = block.Pages[index].HostAddress + fragment.Offset;
        return new Span<byte>((void*)address, fragment.Length);
    }

    private static uint FragmentGenerationOf(long word) => (uint)((ulong)word >> FragmentGenerationShift);

    private long SliceBit(NetmemFragment fragment) => 1L << (fragment.Offset / FragmentGranule);

    private void StartCarving()
    {
        NetmemRef page = _cacheCount > 0 ? LendFromCache() : AllocateSlow(ItemState.LentAsFragments);
        _fragmentItemId = page.ItemId;
        _fragmentGeneration = page.Generation;
        _fragmentNextGranule = 0;
        ItemBlock block = ItemBlockTable.Get(page.BlockIndex);
        Interlocked.Exchange(ref block.Pages[page.ItemIndex].FragmentWord, ((long)page.Generation << FragmentGenerationShift) | CarvingBit);
    }

    private NetmemRef LendFromCache()
    {
        _allocFast++;
        return Lend(_cache[--_cacheCount], ItemState.LentAsFragments);
    }

    /// <summary>The owner gives up the page it is carving; recycles it if every slice is already back.</summary>
    private void StopCarving()
    {
        if (TryStopCarvingUnusedPage(out ItemBlock? block, out int index, out NetmemRef page))
        {
            RecycleFragmentedPage(block, index, page, allowDirect: true);
        }
    }

    /// <summary>
    /// Destroy's part: stop carving and release the page if every slice is already back; counts it with the cache.
    /// Released directly, so it counts neither as a late return nor any concurrent releaser's page.
    /// </summary>
    private void ReleaseFragmentPageIfUnused(ref DestroyCounts counts)
    {
        if (!TryStopCarvingUnusedPage(out ItemBlock? block, out int index, out NetmemRef page))
        {
            return;
        }

        if (_tracking)
        {
            TakeBackLentPage(ref block.Slots[index], page, ItemState.LentAsFragments);
        }

        MappingEnd end = ReleasePage(block, index, page.ItemId, byDestroy: true);
        counts.Count(end, ref counts.FromCache);
    }

    /// <summary>Clears the carving bit; true (the caller then owns the page) if no slice was still out.</summary>
    private bool TryStopCarvingUnusedPage([NotNullWhen(true)] out ItemBlock? block, out int index, out NetmemRef page)
    {
        block = null;
        index = 0;
        page = default;
        if (_fragmentItemId < 0)
        {
            return false;
        }

        int itemId = _fragmentItemId;
        _fragmentItemId = -1;
        block = ItemBlockTable.BlockOf(itemId, out index);
        page = new NetmemRef(itemId, _fragmentGeneration, _unreadable);
        long before = Interlocked.And(ref block.Pages[index].FragmentWord, ~CarvingBit);
        return (before & SliceBits) == 0;
    }

    private void ReturnSlice(NetmemFragment fragment, bool allowDirect)
    {
        ItemBlock block = ResolveBlock(fragment.Page, UseOfHandle.Return);
        int index = fragment.Page.ItemIndex;
        ValidateSliceBounds(fragment);
        ref long fragmentWord = ref block.Pages[index].FragmentWord;
        long bit = SliceBit(fragment);
        long word = Volatile.Read(ref fragmentWord);
        long remaining;
        while (true)
        {
            if (FragmentGenerationOf(word) != fragment.Page.Generation || (word & bit) == 0)
            {
                throw SliceReturnRefused(fragment, block, index);
            }

            remaining = word & ~bit;
            long seen = Interlocked.CompareExchange(ref fragmentWord, remaining, word);
            if (seen == word)
            {
                break;
            }

            word = seen;
        }

        if ((remaining & (SliceBits | CarvingBit)) == 0)
        {
            RecycleFragmentedPage(block, index, fragment.Page, allowDirect);
        }
    }

    private void RecycleFragmentedPage(ItemBlock block, int index, NetmemRef page, bool allowDirect)
    {
        if (_tracking)
        {
            TakeBackLentPage(ref block.Slots[index], page, ItemState.LentAsFragments);
        }

        Recycle(block, index, page.ItemId, allowDirect);
    }

    private void ValidateSliceBounds(NetmemFragment fragment)
    {
        if (fragment.Offset < 0 || fragment.Length <= 0 || fragment.Offset % FragmentGranule != 0 || fragment.Offset + fragment.Length > _pageSize)
        {
            throw new InvalidNetmemException($"Fragment {fragment.Offset}+{fragment.Length} is not a slice this pool cut: the handle is forged or corrupted.");
        }
    }
}
