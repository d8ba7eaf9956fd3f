using System.Runtime.InteropServices;

namespace Netmem.Pool.Core;

/// <summary>
/// What the kernel keeps in <c>struct page</c> for a pool page rather than in the tracking item: the host and DMA
/// addresses, whether it is still mapped, the fragment count and the extra-reference hint.
/// </summary>
/// <remarks>
/// <see cref="Mapped"/> is the unmap claim: <see cref="MappedUnclaimed"/> while the page is mapped and nobody has
/// claimed its unmap. Whoever moves it away from that value by compare-and-swap owns the mapping's end: to
/// <see cref="Unmapping"/> to make the one unmap call (then to <see cref="NotMapped"/>, or to
/// <see cref="UnmappedByWalk"/> when destroy's walk made it), or, once device access is revoked, straight to a value
/// that says the mapping was left to the device's domain teardown (a releaser passes through <see cref="Unmapping"/>
/// there too, without a call, so destroy's walk can wait until the revoked claim is counted). The intermediate
/// <see cref="Unmapping"/> tells a releaser that a device call on the page may still be running, so it must not free
/// the memory yet; the walk's own end values tell a releaser the page is already accounted for by destroy (see the
/// destroy design in <c>PagePool.Destroy.cs</c>).
/// <see cref="DmaAddress"/> is written before <see cref="Mapped"/> is published and not changed while mapped, so a
/// claimer may read it before its swap. <see cref="HostAddress"/> is the provider's answer for the page, asked once
/// when the page is brought in and not changed until it is released; a span is the block, then this field, so the
/// bytes of a lent page are one load away from the block (asking the provider there was two more dependent loads,
/// which every operation waited for behind the return's locked instruction, BENCHMARKS.md §9.1). <see cref="FragmentWord"/> holds the fragment generation (bits 33..63), a
/// carving flag (bit 32) and one bit per live slice (bits 0..31).
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct PageMetadata
{
    public const int NotMapped = 0;
    public const int MappedUnclaimed = 1;
    public const int Unmapping = 2;
    public const int UnmappedByWalk = 3;
    public const int LeftToDomainByWalk = 4;

    public ulong DmaAddress;
    public nint HostAddress;
    public long FragmentWord;
    public int Mapped;
    public int ExternalReferences;
    public int Node;
}
