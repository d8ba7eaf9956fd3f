using Netmem.Pool.Core;

namespace Netmem.Pool;

public sealed partial class PagePool
{
    /// <summary>
    /// Syncs a batch of ranges for the CPU, as <see cref="SyncForCpu(NetmemRef, int, int)"/> does for each in turn,
    /// but entering the pool's device gate once for the batch instead of once per range. Returns how many ranges were
    /// synced (or needed no sync): all of them, unless destroy detached the pool from the device or its device access
    /// was revoked (the ranges from then on are not synced, as single calls would refuse them) or a page is no longer
    /// mapped (that range is skipped).
    /// </summary>
    /// <remarks>
    /// <para>Intent: a NAPI poll syncs up to 64 frames, and the gate's admission and exit are two locked instructions
    /// per call (8–15 ns each on the machine of BENCHMARKS.md §7.1); one admission covers the whole poll.</para>
    /// <para>Why the gate's guarantees still hold (see <see cref="DeviceAccessGate"/>): every device call of the batch
    /// runs between the one admission and the one exit, so the batch is counted in
    /// <see cref="DeviceCallsInFlight"/> for as long as it can call the device; destroy's close waits it out, and a
    /// supervisor waiting for the count after a revocation waits for it too. A batch does not stretch what an admitted
    /// thread may still do once the gate refuses entrants: before each range it reads the gate (a plain load) and stops
    /// once the gate is closed or revoked, so after <see cref="RevokeDeviceAccess"/> or the close in
    /// <see cref="Destroy"/> returns it starts at most the one call it had already passed that check for, as a single
    /// <see cref="SyncForCpu(NetmemRef, int, int)"/> admitted just before would.</para>
    /// <para>Misuse is refused range by range, as by the single call: a handle the pool does not lend (default, forged,
    /// returned, foreign) or a range outside the page throws, the ranges before it having been synced.</para>
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">A range lies outside its page.</exception>
    /// <exception cref="Misuse.NetmemMisuseException">A range's handle names no page this pool lent out.</exception>
    public int SyncForCpu<TRange>(ReadOnlySpan<TRange> ranges)
        where TRange : struct, ICpuSyncRange
    {
        if (_device is null || !_device.NeedsSync || !_deviceGate.TryEnter())
        {
            foreach (ref readonly TRange range in ranges)
            {
                ResolveSyncRange(range);
            }

            return _device is null || !_device.NeedsSync ? ranges.Length : 0;
        }

        int synced = 0;
        try
        {
            foreach (ref readonly TRange range in ranges)
            {
                (ItemBlock block, int index) = ResolveSyncRange(range);
                if (_deviceGate.IsClosed || _deviceGate.IsRevoked)
                {
                    break;
                }

                ref PageMetadata page = ref block.Pages[index];
                if (Volatile.Read(ref page.Mapped) != PageMetadata.MappedUnclaimed)
                {
                    continue;
                }

                try
                {
                    _device.SyncForCpu(page.DmaAddress, range.Offset, range.Length, _dmaDirection);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref _deviceCallFailures);
                    throw;
                }

                synced++;
            }

            return synced;
        }
        finally
        {
            _deviceGate.Exit();
        }
    }

    private (ItemBlock Block, int Index) ResolveSyncRange<TRange>(in TRange range)
        where TRange : struct, ICpuSyncRange
    {
        (ItemBlock block, int index) = ResolveOwned(range.Netmem);
        if ((uint)range.Offset > (uint)_pageSize || (uint)range.Length > (uint)(_pageSize - range.Offset))
        {
            throw new ArgumentOutOfRangeException(nameof(range), $"Range {range.Offset}+{range.Length} is outside the {_pageSize}-byte page.");
        }

        return (block, index);
    }

    /// <summary>The range of a single <see cref="SyncForCpu(NetmemRef, int, int)"/>: that call is a batch of one.</summary>
    private readonly record struct SingleSyncRange(NetmemRef Netmem, int Offset, int Length) : ICpuSyncRange;
}
