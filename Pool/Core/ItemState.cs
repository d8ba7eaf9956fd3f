namespace Netmem.Pool.Core;

/// <summary>
/// Encoding of an item's state word: a 31-bit generation in bits 32..62 and the item's lifecycle in bits 0..1.
/// </summary>
/// <remarks>
/// The word holds nothing else. Returners change it only by compare-and-swap and the single allocating owner only
/// stores over values that no other thread may transition from, so no update is ever lost (the lesson of the seed
/// series' patch 6: state bits must not share a word with fields written non-atomically).
/// The generation moves on every time a lent page comes back, so a handle from an earlier lending no longer
/// matches. Generation 0 is never used, which makes the all-zero default handle invalid.
/// </remarks>
internal static class ItemState
{
    /// <summary>The item tracks no page; it sits on a free-item list.</summary>
    public const long Free = 0;

    /// <summary>The item's page belongs to the pool (alloc cache, recycle ring, or being released).</summary>
    public const long Cached = 1;

    /// <summary>The page is lent whole to a holder.</summary>
    public const long Lent = 2;

    /// <summary>The page is lent as fragments; its fragment word counts them.</summary>
    public const long LentAsFragments = 3;

    public const uint GenerationMask = 0x7FFF_FFFF;

    private const long LifecycleMask = 3;

    public static long Make(uint generation, long lifecycle) => ((long)generation << 32) | lifecycle;

    public static uint GenerationOf(long state) => (uint)((ulong)state >> 32) & GenerationMask;

    public static long LifecycleOf(long state) => state & LifecycleMask;

    public static uint NextGeneration(uint generation) => generation == GenerationMask ? 1 : generation + 1;

    /// <summary>Whether <paramref name="older"/> precedes <paramref name="newer"/> in 31-bit serial-number order.</summary>
    public static bool Precedes(uint older, uint newer)
    {
        uint distance = (newer - older) & GenerationMask;
        return distance != 0 && distance < (1u << 30);
    }
}
