using System.Runtime.CompilerServices;
using Netmem.Pool.Core;
using Netmem.Pool.Misuse;

namespace Netmem.Pool;

// Handle resolution and misuse diagnosis, in one place.
//
// Every operation that takes a NetmemRef resolves it here: the handle's block index finds its ItemBlock in the
// process-wide table, the block names its pool, and (tracking on) the item's state word must be the lent state at
// the handle's generation. The checks are inline and cheap; working out *why* a handle is refused (default, forged,
// stale, returned, foreign, wrong memory kind, fragment mismatch) is out of line, in the methods below them, so the
// hot paths stay a few instructions and every refusal is decided by the same rules:
//   * a generation behind the item's current one is a lending that ended: a double return (for a return) or a
//     use after return (for anything else);
//   * the same generation while the page is not lent, or one ahead, is a lending that never happened: forged;
//   * a handle of a live lending whose block serves another pool is a wrong-pool return.
// Refusals are decided before anything changes, so misuse never corrupts the pool (see NetmemRef's remarks for the
// generation window).
public sealed partial class PagePool
{
    /// <summary>
    /// The pool that lent <paramref name="netmem"/>, to return it; throws <see cref="DoubleReturnException"/> if the
    /// handle was returned and its pool has since been released, <see cref="InvalidNetmemException"/> if no pool
    /// ever lent it.
    /// </summary>
    public static PagePool OwnerOf(NetmemRef netmem) => netmem.Pool ?? throw NoLivePool(netmem, UseOfHandle.Return);

    /// <summary>The pool that lent <paramref name="netmem"/>, to access it: a returned handle is a use after return.</summary>
    internal static PagePool OwnerForAccess(NetmemRef netmem) => netmem.Pool ?? throw NoLivePool(netmem, UseOfHandle.Access);

    /// <summary>
    /// Why a handle has no pool: its block is back in the table (its pool was released) and the page moved on
    /// since the handle's lending, which is a use of a handle already returned; or it never named a lending.
    /// </summary>
    private static NetmemMisuseException NoLivePool(NetmemRef netmem, UseOfHandle use)
    {
        ItemBlock? block = netmem.IsWellFormed ? ItemBlockTable.TryGet(netmem.BlockIndex) : null;
        return block is not null && ItemState.Precedes(netmem.Generation, GenerationNow(block, netmem))
            ? AlreadyReturned(netmem, use, "its pool has since been released")
            : new InvalidNetmemException($"{netmem} names no page of any live pool.");
    }

    /// <summary>
    /// The one refusal of a handle whose lending is over, whatever became of its pool (alive, released, or its block
    /// serving another pool): a second return is a double return, any other use is a use after return.
    /// </summary>
    private static NetmemMisuseException AlreadyReturned(NetmemRef netmem, UseOfHandle use, string since) =>
        use == UseOfHandle.Return
            ? new DoubleReturnException($"{netmem} was already returned; {since}.")
            : new UseAfterReturnException($"{netmem} no longer owns its page: it was returned; {since}.");

    /// <summary>
    /// A page's bytes straight from its handle (<see cref="NetmemRef.GetSpan"/>): the block is looked up once and
    /// names the pool, instead of once to find the pool and again inside it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Span<byte> GetSpanOf(NetmemRef netmem)
    {
        ItemBlock? block = netmem.IsWellFormed ? ItemBlockTable.TryGet(netmem.BlockIndex) : null;
        PagePool? owner = block?.Owner;

        // One test for both memory-kind refusals: a span needs a readable handle of a readable pool. Which refusal
        // applies is worked out in NoSpan, in the order the checks have always run.
        if (owner is null || !netmem.IsReadable || owner._unreadable)
        {
            throw NoSpan(netmem, block, owner);
        }

        return owner.HostSpanOfLentPage(block!, netmem);
    }

    /// <summary>
    /// Why a handle gets no span: no live pool; else a memory kind other than its pool's (forged); else, its pool
    /// being unreadable, the lending is checked first (a returned or forged handle is refused as such) and only a
    /// handle that still owns its page is told the memory has no host span.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NetmemMisuseException NoSpan(NetmemRef netmem, ItemBlock? block, PagePool? owner)
    {
        if (owner is null)
        {
            return NoLivePool(netmem, UseOfHandle.Access);
        }

        if (netmem.IsReadable == owner._unreadable)
        {
            return owner.WrongMemoryKind(netmem);
        }

        owner.CheckLent(block!, netmem);
        return owner.Unreadable(netmem);
    }

    internal Span<byte> GetSpan(NetmemRef netmem)
    {
        ItemBlock block = ResolveBlock(netmem, UseOfHandle.Access);
        if (_unreadable)
        {
            throw NoSpan(netmem, block, this);
        }

        return HostSpanOfLentPage(block, netmem);
    }

    /// <summary>The bytes of a lent page of this readable pool; the caller has checked the memory kind.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe Span<byte> HostSpanOfLentPage(ItemBlock block, NetmemRef netmem)
    {
        int index = CheckLent(block, netmem);
        return new Span<byte>((void*)block.Pages[index].HostAddress, _pageSize);
    }

    /// <summary>
    /// Resolves a handle that must own a lent page of this pool (whole or fragmented); throws the specific misuse
    /// error otherwise. With tracking off only the block and owner are checked.
    /// </summary>
    private (ItemBlock Block, int Index) ResolveOwned(NetmemRef netmem)
    {
        ItemBlock block = ResolveBlock(netmem, UseOfHandle.Access);
        return (block, CheckLent(block, netmem));
    }

    /// <summary>Checks the handle still owns its lent page (tracking on); returns the item index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int CheckLent(ItemBlock block, NetmemRef netmem)
    {
        int index = netmem.ItemIndex;
        if (_tracking)
        {
            // Lent (2) and LentAsFragments (3) differ only in bit 0, so one compare checks generation and lifecycle.
            long state = Volatile.Read(ref block.Slots[index].State);
            if ((state & ~1L) != ItemState.Make(netmem.Generation, ItemState.Lent))
            {
                throw NotLent(netmem, state);
            }
        }

        return index;
    }

    /// <summary>
    /// Why an accessor refuses a handle of this pool whose item is not lent at its generation, decided as a return
    /// decides it: a generation behind the item's is a lending that ended (use after return); the same generation
    /// with the page not lent, or one ahead, is a lending that never happened (forged).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static NetmemMisuseException NotLent(NetmemRef netmem, long state)
    {
        uint current = ItemState.GenerationOf(state);
        return ItemState.Precedes(netmem.Generation, current)
            ? new UseAfterReturnException($"{netmem} no longer owns its page: it was returned, and the page is now at generation {current}.")
            : new InvalidNetmemException($"{netmem} names a lending that never happened: the handle is forged or corrupted.");
    }

    /// <summary>
    /// The block of a handle this pool lent, on every return and span; the checks are inline and the reasons for a
    /// refusal are worked out out of line, so the common case stays a few instructions.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ItemBlock ResolveBlock(NetmemRef netmem, UseOfHandle use)
    {
        ItemBlock? block = netmem.IsWellFormed ? ItemBlockTable.TryGet(netmem.BlockIndex) : null;
        if (block is null || block.Owner != this || netmem.IsReadable == _unreadable)
        {
            throw Unresolvable(netmem, block, use);
        }

        return block;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Exception Unresolvable(NetmemRef netmem, ItemBlock? block, UseOfHandle use)
    {
        if (netmem.IsDefault)
        {
            return new InvalidNetmemException("The default NetmemRef names no page.");
        }

        if (block is null)
        {
            return new InvalidNetmemException($"{netmem} names no item block: the handle is forged or corrupted.");
        }

        PagePool? owner = block.Owner;
        return owner != this
            ? ForeignHandle(netmem, block, owner, use)
            : WrongMemoryKind(netmem);
    }

    private InvalidNetmemException WrongMemoryKind(NetmemRef netmem) =>
        new($"{netmem} has the wrong memory kind for {Name}: the handle is forged or corrupted.");

    /// <summary>The generation the handle's item is at now, to tell a stale handle from a forged one.</summary>
    private static uint GenerationNow(ItemBlock block, NetmemRef netmem) =>
        ItemState.GenerationOf(Volatile.Read(ref block.Slots[netmem.ItemIndex].State));

    private Exception ForeignHandle(NetmemRef netmem, ItemBlock block, PagePool? owner, UseOfHandle use)
    {
        uint current = GenerationNow(block, netmem);
        if (owner is not null && current == netmem.Generation)
        {
            return new WrongPoolException($"{netmem} belongs to {owner.Name} (id {owner.Id}), not to {Name} (id {Id}).");
        }

        return ItemState.Precedes(netmem.Generation, current)
            ? AlreadyReturned(netmem, use, $"its page has since left {Name}")
            : new InvalidNetmemException($"{netmem} names no page lent by {Name}: the handle is forged or corrupted.");
    }

    /// <summary>What a caller does with a handle, which names the refusal of a handle whose lending is over.</summary>
    private enum UseOfHandle
    {
        Access,
        Return,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ThrowIfUnreadable(NetmemRef netmem)
    {
        if (_unreadable)
        {
            throw Unreadable(netmem);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private UnreadableNetmemException Unreadable(NetmemRef netmem) =>
        new($"{netmem} is unreadable device memory from {Name}; it has no host span.");

    private static NetmemMisuseException ReturnRefused(NetmemRef netmem, long observed, long lentAs)
    {
        uint current = ItemState.GenerationOf(observed);
        long lifecycle = ItemState.LifecycleOf(observed);
        if (current == netmem.Generation && lifecycle is ItemState.Lent or ItemState.LentAsFragments)
        {
            return lentAs == ItemState.Lent
                ? new FragmentMismatchException($"{netmem} is lent as fragments; return each fragment instead of the page.")
                : new FragmentMismatchException($"{netmem} is lent whole; it has no fragments to return.");
        }

        if (ItemState.Precedes(netmem.Generation, current))
        {
            return new DoubleReturnException($"{netmem} was already returned (its page is now at generation {current}).");
        }

        return new InvalidNetmemException($"{netmem} names a lending that never happened: the handle is forged or corrupted.");
    }

    private NetmemMisuseException SliceReturnRefused(NetmemFragment fragment, ItemBlock block, int index)
    {
        long state = Volatile.Read(ref block.Slots[index].State);
        if (ItemState.GenerationOf(state) == fragment.Page.Generation && ItemState.LifecycleOf(state) == ItemState.Lent)
        {
            return new FragmentMismatchException($"{fragment.Page} is lent whole; it has no fragments to return.");
        }

        return new DoubleReturnException($"Fragment at {fragment.Offset} of {fragment.Page} was already returned.");
    }
}
