namespace Netmem.Pool.Memory;

/// <summary>
/// Where a pool's pages come from: the page allocator of the model (the kernel's buddy allocator for host pages, or
/// a memory provider such as a dma-buf for device memory).
/// </summary>
/// <remarks>
/// Pages are named by a 64-bit page id and are reference counted like <c>struct page</c>: an allocated page has one
/// reference; <see cref="AddPageReference"/> is <c>get_page</c>; <see cref="ReleasePage"/> is <c>put_page</c> and
/// frees the page when the last reference goes. Every member is thread-safe.
/// </remarks>
public interface IMemoryProvider
{
    /// <summary>Bytes in one page. A power of two.</summary>
    int PageSize { get; }

    /// <summary>False for device memory the CPU cannot read (the kernel's unreadable <c>net_iov</c>).</summary>
    bool IsReadable { get; }

    /// <summary>Takes a free page with one reference, or returns false when none can be had.</summary>
    bool TryAllocatePage(out ulong pageId);

    /// <summary>The page's host address, or <see cref="nint.Zero"/> when the provider is unreadable.</summary>
    nint GetHostAddress(ulong pageId);

    /// <summary>Adds a reference to an allocated page.</summary>
    void AddPageReference(ulong pageId);

    /// <summary>Drops one reference; the page becomes free when the last one goes.</summary>
    void ReleasePage(ulong pageId);
}
