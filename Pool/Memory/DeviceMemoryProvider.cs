namespace Netmem.Pool.Memory;

/// <summary>
/// Unreadable device memory (the kernel's devmem TCP <c>net_iov</c>s over a dma-buf): a fixed number of
/// page-sized buffers with no host address. The pool lends and tracks them like host pages, but
/// <see cref="NetmemRef.GetSpan"/> refuses them; only the device (through its DMA mapping) touches their bytes.
/// </summary>
public sealed class DeviceMemoryProvider : SegmentedPageProvider
{
    /// <summary>Creates <paramref name="bufferCount"/> buffers of <paramref name="bufferSize"/> bytes (a power of two), all allocatable at once; the count is fixed.</summary>
    public DeviceMemoryProvider(int bufferCount, int bufferSize = 4096)
        : base(bufferSize, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, bufferCount)), bufferCount)
    {
    }

    /// <inheritdoc/>
    public override bool IsReadable => false;

    /// <summary>Always <see cref="nint.Zero"/>: device memory has no host address.</summary>
    public override nint GetHostAddress(ulong pageId) => 0;

    /// <inheritdoc/>
    protected override bool TryAddSegmentBacking(int segment) => segment == 0;
}
