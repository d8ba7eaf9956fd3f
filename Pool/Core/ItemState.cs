namespace Netmem.Pool.Core;

/// <summary>
/// Encoding of an item's state word: a 31-bit generation in bits 32..62 and the item's lifecycle in bits 0..1.
/// </summary>
/// <remarks>
/// The word holds nothing else (the lesson of the seed series' patch 6: state bits must not share a word with fields
/// written non-atomically). Who changes it, and why no update is ever lost:
/// <list type="bullet">
/// <item>Leaving a lent state (Lent or LentAsFragments at a generation → Cached at the next one) happens only by
/// compare-and-swap, from any returning thread: it is the one transition several threads may race for (a double
/// return, a stale handle), and exactly one swap wins.</item>
/// <item>Every other transition is a plain (volatile) store by the one thread that owns the page exclusively at that
/// moment: Free → Cached by the owner bringing the page in, Cached → Lent/LentAsFragments by the owner lending it
/// from its cache, Cached → Free by whoever releases the page, on any thread (a returner that won the swap, the
/// owner, destroy, the retry timer): it took the page from the swap, the cache or the ring, so nobody else holds it.
/// These stores are safe because their source states, Free and Cached, are ones no other thread transitions from:
/// the only concurrent writers are returners' swaps, which expect a lent state and so fail against Free or Cached
/// whether they run before or after the store, changing nothing.</item>
/// </list>
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
