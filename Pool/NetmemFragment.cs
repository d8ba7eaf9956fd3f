namespace Netmem.Pool;

/// <summary>
/// A slice of a pooled page (the kernel's <c>page_pool_alloc_frag</c> result): the page handle plus the slice's
/// offset and length. The page recycles when its last slice comes back.
/// </summary>
public readonly record struct NetmemFragment(NetmemRef Page, int Offset, int Length)
{
    /// <summary>The slice's bytes, while it is owned.</summary>
    public Span<byte> GetSpan() => PagePool.OwnerForAccess(Page).GetFragmentSpan(this);

    /// <summary>Returns the slice to the pool that lent it, from any thread.</summary>
    public void ReturnToPool() => PagePool.OwnerOf(Page).ReturnFragment(this);
}
