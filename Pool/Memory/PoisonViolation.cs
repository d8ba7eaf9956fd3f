namespace Netmem.Pool.Memory;

/// <summary>
/// A free page found written to: its poison (see <see cref="SegmentedPageProvider.PoisonFreedPages"/>) changed after
/// its memory was freed, most likely by a device writing through a mapping that outlived the page's release.
/// </summary>
/// <param name="PageId">The provider's page id.</param>
/// <param name="HostAddress">Where the page's memory is.</param>
/// <param name="FirstChangedOffset">The offset of the first changed byte.</param>
/// <param name="ChangedBytes">How many bytes differ from the poison.</param>
/// <param name="FoundOnReuse">True when found as the page was about to be handed out again; false when found by
/// <see cref="SegmentedPageProvider.VerifyFreePages"/> (or at the provider's disposal).</param>
public sealed record PoisonViolation(ulong PageId, nint HostAddress, int FirstChangedOffset, int ChangedBytes, bool FoundOnReuse)
{
    /// <summary>The violation in words, naming the page.</summary>
    public override string ToString() =>
        $"device wrote after unmap: page {PageId} (at 0x{HostAddress:x}) has {ChangedBytes} byte(s) changed since it was freed, the first at offset {FirstChangedOffset}, found {(FoundOnReuse ? "as it was reused" : "by the verification of free pages")}";
}
