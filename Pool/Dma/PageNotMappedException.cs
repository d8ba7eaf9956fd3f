namespace Netmem.Pool.Dma;

/// <summary>
/// A page's bus address was asked for while the page is not mapped for the device: the pool has no device, or
/// destroy or a revocation of device access ended the mapping. Not a misuse of the handle, which still owns the
/// page; <see cref="PagePool.TryGetDmaAddress"/> asks the same question without an exception.
/// </summary>
public sealed class PageNotMappedException : InvalidOperationException
{
    /// <summary>Creates the exception with a message naming the page and why it has no mapping.</summary>
    public PageNotMappedException(string message)
        : base(message)
    {
    }
}
