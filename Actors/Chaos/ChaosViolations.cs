namespace Netmem.Chaos;

/// <summary>
/// Every way a run can show that a page or a mapping was mishandled, each counted on its own. A run passes only when
/// all are zero.
/// </summary>
/// <param name="DoubleUnmap">Unmaps of an address that was already unmapped (IOMMU model).</param>
/// <param name="DeviceCallAfterUnbind">Map, unmap, sync or DMA calls made while the device was unbound (IOMMU model).</param>
/// <param name="DmaToUnmappedPage">DMA writes into an address with no live mapping (IOMMU model).</param>
/// <param name="SyncOfUnmappedPage">Syncs of an address with no live mapping (IOMMU model).</param>
/// <param name="UnmapOfUnknownAddress">Unmaps of an address that was never mapped (IOMMU model).</param>
/// <param name="UnmapLengthMismatch">Unmaps of a live mapping with another length than it was mapped with (IOMMU model).</param>
/// <param name="UnmapDirectionMismatch">Unmaps of a live mapping with another direction than it was mapped with (IOMMU model).</param>
/// <param name="MappingLeakedAtUnbind">Mappings still live when a device's IOMMU domain was torn down.</param>
/// <param name="PageLeakedAtEndOfRun">Pages still lent when the run ended, after every consumer finished.</param>
/// <param name="AccountingMismatch">Pages on which a pool's hold − release disagrees with its memory provider, or went negative.</param>
/// <param name="UnboundWithItemsNotReclaimed">Pages neither reclaimed nor unmapped when an <c>Unbound</c> reply arrived.</param>
/// <param name="MisuseNotRejected">Double returns or uses after dispose that the runtime let through.</param>
/// <param name="PacketsUnaccounted">Received packets that ended neither delivered nor dropped with a reason.</param>
/// <param name="KernelErrors">Errors the kernel returned to the real device's register and unregister calls (io_uring runs only).</param>
/// <param name="DeviceWroteAfterUnmap">Free pages found written to after their memory went back to the memory provider
/// (their poison changed): a device wrote through a mapping that outlived the page's release.</param>
internal sealed record ChaosViolations(
    long DoubleUnmap,
    long DeviceCallAfterUnbind,
    long DmaToUnmappedPage,
    long SyncOfUnmappedPage,
    long UnmapOfUnknownAddress,
    long UnmapLengthMismatch,
    long UnmapDirectionMismatch,
    long MappingLeakedAtUnbind,
    long PageLeakedAtEndOfRun,
    long AccountingMismatch,
    long UnboundWithItemsNotReclaimed,
    long MisuseNotRejected,
    long PacketsUnaccounted,
    long KernelErrors = 0,
    long DeviceWroteAfterUnmap = 0)
{
    public long Total =>
        DoubleUnmap + DeviceCallAfterUnbind + DmaToUnmappedPage + SyncOfUnmappedPage + UnmapOfUnknownAddress
        + UnmapLengthMismatch + UnmapDirectionMismatch + MappingLeakedAtUnbind + PageLeakedAtEndOfRun + AccountingMismatch + UnboundWithItemsNotReclaimed
        + MisuseNotRejected + PacketsUnaccounted + KernelErrors + DeviceWroteAfterUnmap;

    /// <summary>Each counter with a readable name, in report order.</summary>
    public IReadOnlyList<(string Name, long Count)> Counters() =>
    [
        ("double unmap", DoubleUnmap),
        ("device call after unbind", DeviceCallAfterUnbind),
        ("DMA to an unmapped page", DmaToUnmappedPage),
        ("sync of an unmapped page", SyncOfUnmappedPage),
        ("unmap of an unknown address", UnmapOfUnknownAddress),
        ("unmap length does not match the mapping", UnmapLengthMismatch),
        ("unmap direction does not match the mapping", UnmapDirectionMismatch),
        ("mapping leaked at unbind", MappingLeakedAtUnbind),
        ("page leaked at end of run", PageLeakedAtEndOfRun),
        ("accounting mismatch (hold - release vs provider)", AccountingMismatch),
        ("Unbound with items neither reclaimed nor unmapped", UnboundWithItemsNotReclaimed),
        ("misuse not rejected", MisuseNotRejected),
        ("packets unaccounted", PacketsUnaccounted),
        ("kernel errors", KernelErrors),
        ("device wrote after unmap", DeviceWroteAfterUnmap),
    ];
}
