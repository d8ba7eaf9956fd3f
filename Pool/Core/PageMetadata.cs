using System.Runtime.InteropServices;

namespace Netmem.Pool.Core;

/// <summary>
/// What the kernel keeps in <c>struct page</c> for a pool page rather than in the tracking item: the DMA address,
/// whether it is still mapped, the fragment count and the extra-reference hint.
/// </summary>
/// <remarks>
/// <see cref="Mapped"/> is the unmap claim: 1 while the page is mapped, and whoever changes it from 1 to 0 by
/// compare-and-swap makes the one unmap call (see the destroy design in <c>PagePool.Destroy.cs</c>).
/// <see cref="DmaAddress"/> is written before <see cref="Mapped"/> is published and not changed while mapped, so a
/// claimer may read it before its swap. <see cref="FragmentWord"/> holds the fragment generation (bits 33..63), a
/// carving flag (bit 32) and one bit per live slice (bits 0..31).
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct PageMetadata
{
    public ulong DmaAddress;
    public long FragmentWord;
    public int Mapped;
    public int ExternalReferences;
    public int Node;
}
