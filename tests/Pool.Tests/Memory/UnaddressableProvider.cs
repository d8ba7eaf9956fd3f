using Netmem.Pool.Memory;

namespace Netmem.Pool.Tests.Memory;

/// <summary>A host page provider that cannot say where a page is: <see cref="GetHostAddress"/> throws, the rest is the inner provider's.</summary>
internal sealed class UnaddressableProvider(HostPageProvider inner) : IMemoryProvider
{
    public int PageSize => inner.PageSize;

    public bool IsReadable => true;

    public nint GetHostAddress(ulong pageId) => throw new InvalidOperationException($"page {pageId} has no host address");

    public bool TryAllocatePage(out ulong pageId) => inner.TryAllocatePage(out pageId);

    public void AddPageReference(ulong pageId) => inner.AddPageReference(pageId);

    public void ReleasePage(ulong pageId) => inner.ReleasePage(pageId);
}
