namespace Netmem.Pool.Dma;

/// <summary>
/// The DMA API of one device, as the pool uses it: streaming map, unmap and the two syncs.
/// </summary>
/// <remarks>
/// <para>What the pool guarantees to an implementation:</para>
/// <list type="bullet">
/// <item>every address returned by a successful <see cref="Map"/> is passed to <see cref="Unmap"/> exactly once,
/// with the same length and direction, whichever path (release, ring overflow, destroy) gets there first;</item>
/// <item>syncs are only made on addresses that are currently mapped;</item>
/// <item>once <see cref="PagePool.Destroy"/> has returned, no call for that pool is made or still running,
/// so the device may be unbound right after it;</item>
/// <item>once <see cref="PagePool.RevokeDeviceAccess"/> has returned, no new call for that pool starts (calls
/// already admitted, counted by <see cref="PagePool.DeviceCallsInFlight"/>, finish); the mappings the pool has not
/// unmapped by then are never unmapped by it: they are left to the device's own domain teardown.</item>
/// </list>
/// <para>What the pool does when a call throws (it never calls again to "retry" a mapping):</para>
/// <list type="bullet">
/// <item><see cref="Map"/>: the page is given back to the memory provider and nothing is mapped; the failure
/// reaches the allocating caller (counted in <see cref="PagePoolStats.MapFailures"/>). If the first
/// <see cref="SyncForDevice"/> of a fresh mapping throws, the mapping is unmapped once before that.</item>
/// <item><see cref="Unmap"/>: the pool treats the mapping as ended. The unmap claim was taken before the call, so
/// no second <see cref="Unmap"/> is ever made for that address; the page's memory is still freed and its tracking
/// item recycled, so accounting stays exact. The failure is counted (<see cref="PagePoolStats.DeviceCallFailures"/>,
/// <see cref="PagePoolDestroyReport.DeviceCallFailures"/>) and not thrown to the returner; destroy's walk goes on
/// to the next page.</item>
/// <item><see cref="SyncForDevice"/> on recycle: the page is not recycled; it is released (unmapped once, freed) and
/// the failure counted.</item>
/// <item><see cref="SyncForCpu"/>: the failure is counted and the exception reaches the caller of
/// <see cref="PagePool.SyncForCpu"/>; the page stays owned and mapped.</item>
/// </list>
/// <para>The memory of a page is never freed while a call on its mapping may still be running.</para>
/// <para>What the pool needs from an implementation: every member is thread-safe, because returns come from
/// any thread. <see cref="Map"/> reports failure by throwing; the pool then frees the page and maps nothing.</para>
/// </remarks>
public interface IDmaDevice
{
    /// <summary>A name for diagnostics and introspection (the kernel's device name).</summary>
    string Name { get; }

    /// <summary>Whether syncs do anything on this device (<c>dma_dev_need_sync</c>); when false the pool skips them.</summary>
    bool NeedsSync { get; }

    /// <summary>Maps <paramref name="buffer"/> for the device and returns its bus (IOVA) address. Throws on failure.</summary>
    ulong Map(DmaBuffer buffer, DmaDirection direction);

    /// <summary>Removes a mapping made by <see cref="Map"/>. If it throws, the pool still considers the mapping gone.</summary>
    void Unmap(ulong dmaAddress, int length, DmaDirection direction);

    /// <summary>Hands a byte range of a mapped buffer to the device (before the device writes into it).</summary>
    void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction);

    /// <summary>Hands a byte range of a mapped buffer back to the CPU (before the CPU reads what the device wrote).</summary>
    void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction);
}
