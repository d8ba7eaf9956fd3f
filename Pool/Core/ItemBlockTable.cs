namespace Netmem.Pool.Core;

/// <summary>
/// The process-wide table that turns a handle's block index into its <see cref="ItemBlock"/>.
/// </summary>
/// <remarks>
/// Readers index the current array without a lock: the array only grows, each growth publishes a full copy, and a
/// slot, once set, is never cleared (blocks are type-stable, see <see cref="ItemBlock"/>). Growth and the free-block
/// list are under a lock; they happen when a pool needs more items or is fully released, never per page.
/// </remarks>
internal static class ItemBlockTable
{
    /// <summary>Block indices use 23 bits of a handle.</summary>
    public const int MaxBlocks = 1 << 23;

    private static readonly object s_lock = new();
    private static readonly Stack<ItemBlock> s_freeBlocks = new();
    private static ItemBlock?[] s_blocks = new ItemBlock?[64];
    private static int s_created;

    public static int CreatedBlocks => Volatile.Read(ref s_created);

    /// <summary>The block for an index taken from a validated handle or from the pool's own cache.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ItemBlock Get(int blockIndex) => Volatile.Read(ref s_blocks)[blockIndex]!;

    /// <summary>The block and index of an item id the pool itself holds (cache, ring, free lists, carving page).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ItemBlock BlockOf(int itemId, out int index)
    {
        index = ItemBlock.IndexOf(itemId);
        return Get(ItemBlock.BlockIndexOf(itemId));
    }

    /// <summary>The block for an untrusted index, or null.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static ItemBlock? TryGet(int blockIndex)
    {
        ItemBlock?[] blocks = Volatile.Read(ref s_blocks);
        return (uint)blockIndex < (uint)blocks.Length ? Volatile.Read(ref blocks[blockIndex]) : null;
    }

    public static ItemBlock Rent(PagePool owner)
    {
        lock (s_lock)
        {
            if (!s_freeBlocks.TryPop(out ItemBlock? block))
            {
                if (s_created == MaxBlocks)
                {
                    throw new InvalidOperationException($"The item-block table is full ({MaxBlocks} blocks).");
                }

                block = new ItemBlock(s_created);
                if (s_created == s_blocks.Length)
                {
                    ItemBlock?[] grown = new ItemBlock?[s_blocks.Length * 2];
                    Array.Copy(s_blocks, grown, s_blocks.Length);
                    Volatile.Write(ref s_blocks, grown);
                }

                Volatile.Write(ref s_blocks[s_created], block);
                s_created++;
            }

            block.Owner = owner;
            return block;
        }
    }

    /// <summary>Gives back a block whose items are all free; its pool has released every page.</summary>
    public static void Return(ItemBlock block)
    {
        lock (s_lock)
        {
            block.Owner = null;
            block.AllocationSites = null;

            // A pool without inflight tracking lets a page still held at destroy leave with its mapping leaked
            // (Mapped stays 1, by design). Cleared here, so the next owner's destroy walk cannot find that claim
            // and unmap a foreign address on its own device. Stale handles only read FragmentWord, whose cleared
            // generation 0 matches no handle.
            ((Span<PageMetadata>)block.Pages).Clear();
            s_freeBlocks.Push(block);
        }
    }
}
