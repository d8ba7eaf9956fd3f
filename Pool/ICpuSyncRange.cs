namespace Netmem.Pool;

/// <summary>
/// A range of an owned page the device wrote, for <see cref="PagePool.SyncForCpu{TRange}(ReadOnlySpan{TRange})"/>
/// to sync in one batch: a driver's received frame implements it, so a poll's frames are synced where they lie,
/// without copying them into another array.
/// </summary>
public interface ICpuSyncRange
{
    /// <summary>The owned page the range lies in.</summary>
    NetmemRef Netmem { get; }

    /// <summary>Where the range starts in the page.</summary>
    int Offset { get; }

    /// <summary>The range's length in bytes.</summary>
    int Length { get; }
}
