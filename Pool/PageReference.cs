using Netmem.Pool.Memory;

namespace Netmem.Pool;

/// <summary>
/// An extra reference to a page's memory, taken by code that must keep the bytes past the page's return (the
/// kernel's <c>get_page</c> on a pool page, e.g. a zero-copy send still in flight). While one exists, returning
/// the page releases it from the pool (unmapped, accounted, counted as <c>released_refcnt</c>) instead of
/// recycling it, and the memory is freed when the last reference is disposed.
/// </summary>
public sealed class PageReference : IDisposable
{
    private readonly IMemoryProvider _provider;
    private int _disposed;

    internal PageReference(IMemoryProvider provider, ulong pageId)
    {
        _provider = provider;
        PageId = pageId;
    }

    /// <summary>The memory provider's id of the page this reference keeps alive.</summary>
    public ulong PageId { get; }

    /// <summary>The page's bytes while this reference is held; empty for unreadable memory.</summary>
    public unsafe Span<byte> GetSpan()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        nint address = _provider.GetHostAddress(PageId);
        return address == 0 ? Span<byte>.Empty : new Span<byte>((void*)address, _provider.PageSize);
    }

    /// <summary>Drops the reference, once; the page's memory is freed when its last reference goes.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _provider.ReleasePage(PageId);
        }
    }
}
