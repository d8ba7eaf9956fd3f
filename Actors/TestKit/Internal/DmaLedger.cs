using System.Collections.Concurrent;

namespace Netmem.TestKit.Internal;

/// <summary>
/// The kit's own bookkeeping of one bind's DMA calls, in front of whatever device the scenario runs: every live
/// mapping, and in words every call that breaks the device contract (an unmap of an address not mapped, any call
/// after the domain was torn down, a mapping still live at teardown that no pool revoked). On the simulated device
/// the strict IOMMU model underneath judges the same calls; on a real device this ledger is the oracle.
/// </summary>
internal sealed class DmaLedger(string device, int bind, ConcurrentQueue<string> violations)
{
    private readonly ConcurrentDictionary<ulong, byte> _live = new();
    private int _tornDown;

    public int LiveMappings => _live.Count;

    public void Mapped(ulong address)
    {
        CheckBound("Map", address);
        if (!_live.TryAdd(address, 0))
        {
            violations.Enqueue($"{device} bind {bind}: address 0x{address:X} was mapped twice without an unmap in between.");
        }
    }

    public void Unmapped(ulong address)
    {
        CheckBound("Unmap", address);
        if (!_live.TryRemove(address, out _))
        {
            violations.Enqueue($"{device} bind {bind}: unmap of 0x{address:X}, which is not mapped (a double unmap or a forged address).");
        }
    }

    public void Synced(string call, ulong address)
    {
        CheckBound(call, address);
        if (!_live.ContainsKey(address))
        {
            violations.Enqueue($"{device} bind {bind}: {call} of 0x{address:X}, which is not mapped.");
        }
    }

    /// <summary>The domain is gone; mappings beyond the <paramref name="revokedMappings"/> the pools left to it leaked.</summary>
    public void TornDown(long revokedMappings)
    {
        Volatile.Write(ref _tornDown, 1);
        long leaked = _live.Count - revokedMappings;
        if (leaked > 0)
        {
            violations.Enqueue($"{device} bind {bind}: {leaked} mapping(s) were still live when the domain was torn down and no pool had revoked them (leaked mappings).");
        }
    }

    private void CheckBound(string call, ulong address)
    {
        if (Volatile.Read(ref _tornDown) == 1)
        {
            violations.Enqueue($"{device} bind {bind}: {call} of 0x{address:X} after the domain was torn down.");
        }
    }
}
