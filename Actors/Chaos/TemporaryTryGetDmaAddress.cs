using Netmem.Pool;

namespace Netmem.Chaos;

/// <summary>
/// TEMPORARY: <c>PagePool.TryGetDmaAddress(NetmemRef, out ulong)</c> arrives from the pool branch; until it is merged
/// this extension of the exact same signature stands in for it (the lead deletes this file at the merge, and the
/// instance method takes over every call).
/// </summary>
internal static class TemporaryTryGetDmaAddress
{
    public static bool TryGetDmaAddress(this PagePool pool, NetmemRef netmem, out ulong dmaAddress)
    {
        try
        {
            dmaAddress = pool.GetDmaAddress(netmem);
            return true;
        }
        catch (InvalidOperationException)
        {
            dmaAddress = 0;
            return false;
        }
    }
}
