using System.Runtime.CompilerServices;
using Netmem.Pool.Core;

namespace Netmem.Pool;

/// <summary>
/// A handle to one pooled buffer: eight bytes, no allocation, the kernel's <c>netmem_ref</c>.
/// </summary>
/// <remarks>
/// Layout: bits 0..7 item index, bits 8..30 block index, bits 32..62 the item's generation when it was lent, bit 63
/// set for unreadable device memory (the kernel's <c>NET_IOV</c> bit). The block index finds the item block by
/// arithmetic and the block names its pool, so <see cref="Pool"/> is O(1) with no dictionary. The generation makes a
/// handle single-use: once its page is returned, every operation through it is refused. A handle is an ownership
/// token: whoever holds it owns the page until returning it, and passing it in a message passes the ownership.
/// <para>The generation window. Generations are 31-bit serial numbers that wrap, compared as the kernel compares
/// sequence numbers: a handle's generation is "behind" its item's current generation when it is 1 to 2^30 − 1 steps
/// earlier modulo 2^31, and "ahead" otherwise. Behind is what a handle of an ended lending looks like, so the pool
/// names its use a double return (for a return) or a use after return (for anything else). Ahead, or the same
/// generation while the page is not lent, is a lending that has not happened: the handle is forged, refused as
/// invalid. A forged handle whose generation happens to fall up to 2^30 behind is therefore indistinguishable from a
/// stale one and is refused as stale rather than as forged; either way it is refused before anything changes, and it
/// never reaches the current lending's page, because only the exact current generation owns it. Conversely, an
/// item lent and returned 2^30 times while a stale handle is kept would make that handle look ahead (forged); no
/// item comes close to that in practice.</para>
/// </remarks>
public readonly struct NetmemRef : IEquatable<NetmemRef>
{
    private const ulong UnreadableBit = 1UL << 63;
    private const ulong ItemIdMask = 0x7FFF_FFFF;

    private readonly ulong _value;

    internal NetmemRef(int itemId, uint generation, bool unreadable)
    {
        _value = (uint)itemId | ((ulong)generation << 32) | (unreadable ? UnreadableBit : 0);
    }

    private NetmemRef(ulong value) => _value = value;

    /// <summary>The raw 64-bit value, for logs and wire formats.</summary>
    public ulong Value => _value;

    /// <summary>True for <c>default(NetmemRef)</c>, the handle of no page.</summary>
    public bool IsDefault => _value == 0;

    /// <summary>False for unreadable device memory, which has no host span.</summary>
    public bool IsReadable => (_value & UnreadableBit) == 0;

    /// <summary>The pool that lent this page, or null if the handle names no block (default or forged).</summary>
    public PagePool? Pool => IsWellFormed ? ItemBlockTable.TryGet(BlockIndex)?.Owner : null;

    internal int ItemId => (int)(_value & ItemIdMask);

    internal int BlockIndex => ItemBlock.BlockIndexOf(ItemId);

    internal int ItemIndex => ItemBlock.IndexOf(ItemId);

    internal uint Generation => (uint)(_value >> 32) & ItemState.GenerationMask;

    internal bool IsWellFormed => (_value & 0x8000_0000UL) == 0 && Generation != 0;

    /// <summary>True when both handles have the same <see cref="Value"/>: the same page and the same lending.</summary>
    public static bool operator ==(NetmemRef left, NetmemRef right) => left._value == right._value;

    /// <summary>True when the handles differ in <see cref="Value"/>.</summary>
    public static bool operator !=(NetmemRef left, NetmemRef right) => left._value != right._value;

    /// <summary>Rebuilds a handle from <see cref="Value"/>; the pool validates it on use.</summary>
    public static NetmemRef FromValue(ulong value) => new(value);

    /// <summary>The page's bytes, while this handle owns it. Throws for unreadable memory or a returned handle.</summary>
    public Span<byte> GetSpan() => PagePool.GetSpanOf(this);

    /// <summary>Returns the page to the pool that lent it (the kernel's <c>napi_pp_put_page</c>), from any thread.</summary>
    public void ReturnToPool() => PagePool.OwnerOf(this).Return(this);

    /// <summary>True when <paramref name="other"/> has the same <see cref="Value"/>: the same page and the same lending.</summary>
    public bool Equals(NetmemRef other) => _value == other._value;

    /// <summary>True when <paramref name="obj"/> is a <see cref="NetmemRef"/> with the same <see cref="Value"/>.</summary>
    public override bool Equals(object? obj) => obj is NetmemRef other && Equals(other);

    /// <summary>A hash of <see cref="Value"/>.</summary>
    public override int GetHashCode() => _value.GetHashCode();

    /// <summary>The handle's block, item and generation, for logs; the pool is not consulted.</summary>
    [SkipLocalsInit]
    public override string ToString() =>
        IsDefault ? "netmem(default)" : $"netmem(block {BlockIndex}, item {ItemIndex}, gen {Generation}{(IsReadable ? string.Empty : ", unreadable")})";
}
