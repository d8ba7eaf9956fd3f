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
/// so the device may be unbound right after it.</item>
/// </list>
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

    /// <summary>Removes a mapping made by <see cref="Map"/>.</summary>
    void Unmap(ulong dmaAddress, int length, DmaDirection direction);

    /// <summary>Hands a byte range of a mapped buffer to the device (before the device writes into it).</summary>
    void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction);

    /// <summary>Hands a byte range of a mapped buffer back to the CPU (before the CPU reads what the device wrote).</summary>
    void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction);
}
