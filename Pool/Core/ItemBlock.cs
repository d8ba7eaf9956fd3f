using System.Runtime.CompilerServices;

namespace Netmem.Pool.Core;

/// <summary>
/// A fixed-size block of tracking items, the seed's <c>struct page_pool_item_block</c>.
/// </summary>
/// <remarks>
/// <para>Why blocks: a pool must be able to find every page it ever lent (so destroy can unmap it) and a page must
/// find its pool without a look-up structure on the hot path. The seed gets both by packing items into page-sized
/// blocks whose header names the pool, so <c>item &amp; PAGE_MASK</c> is the block. Managed code cannot mask object
/// addresses, so here the same arithmetic runs on indices: a handle carries <c>blockIndex &lt;&lt; 8 | itemIndex</c>;
/// the block is <c>ItemBlockTable[handle &gt;&gt; 8]</c> and its <see cref="Owner"/> is the pool. Destroy walks the
/// pool's blocks, not all memory, so its cost is O(pages the pool ever held).</para>
/// <para>Why type-stable: a block is never freed. When its pool is fully released the block goes back to the table
/// and may serve another pool, and its items keep their generations. A stale or forged handle therefore always
/// lands on a live object and is rejected by the generation check; it can never reach freed memory.</para>
/// <para>Why inline arrays: the items and page records live inside the block object itself (fixed-size inline
/// arrays), not in arrays it points to. Every handle resolution (lend, span, return) then goes table → block →
/// item with no further pointer to chase and, since the index is a masked byte, no bounds check.</para>
/// </remarks>
internal sealed class ItemBlock
{
    public const int IndexBits = 8;
    public const int ItemsPerBlock = 1 << IndexBits;
    public const int IndexMask = ItemsPerBlock - 1;

    /// <summary>The block index of an item id (<c>blockIndex &lt;&lt; 8 | itemIndex</c>); with <see cref="IndexOf"/>
    /// the one decoding of an item id, used by handles and by the pool's own cache, ring and lists.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int BlockIndexOf(int itemId) => itemId >> IndexBits;

    /// <summary>The item's index inside its block.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static int IndexOf(int itemId) => itemId & IndexMask;

    public ItemBlock(int index)
    {
        Index = index;
        for (int i = 0; i < ItemsPerBlock; i++)
        {
            Slots[i].State = ItemState.Make(1, ItemState.Free);
        }
    }

    public int Index { get; }

    /// <summary>The pool this block serves, or null while it waits in the table's free list.</summary>
    public volatile PagePool? Owner;

    /// <summary>The tracking items, indexed by <see cref="IndexOf"/>.</summary>
    public ItemSlots Slots;

    /// <summary>The pages' <c>struct page</c> fields, indexed like <see cref="Slots"/>.</summary>
    public PageRecords Pages;

    /// <summary>Allocation sites, captured only when the owning pool runs with leak detection.</summary>
    public string?[]? AllocationSites { get; set; }

    public int FirstItemId => Index << IndexBits;
}

/// <summary>A block's tracking items, stored inline in the block.</summary>
[InlineArray(ItemBlock.ItemsPerBlock)]
internal struct ItemSlots
{
    private ItemSlot _first;
}

/// <summary>A block's page records, stored inline in the block.</summary>
[InlineArray(ItemBlock.ItemsPerBlock)]
internal struct PageRecords
{
    private PageMetadata _first;
}
