using System.Collections.Concurrent;
using Netmem.Actors.Hosting;
using Netmem.Pool;

namespace Netmem.Chaos;

/// <summary>
/// Every pool that served a run's devices, asked of the runtime after each bind (<see cref="PagePoolRuntime.PoolsOfAsync"/>)
/// and kept after the device lets it go, so the end-of-run checks see pools that were already released.
/// </summary>
internal sealed class PoolCensus
{
    private readonly ConcurrentDictionary<PagePool, string> _pools = new();

    public IReadOnlyCollection<PagePool> Pools => _pools.Keys.OrderBy(p => p.Id).ToArray();

    /// <summary>Records the pools <paramref name="device"/> has now.</summary>
    public async Task ObserveAsync(PagePoolRuntime runtime, string device, TimeSpan timeout)
    {
        foreach (PagePool pool in await runtime.PoolsOfAsync(device, timeout).ConfigureAwait(false))
        {
            _pools.TryAdd(pool, device);
        }
    }

    /// <summary>The device's pools, of every bind observed so far.</summary>
    public IReadOnlyList<PagePool> PoolsOf(string device) =>
        _pools.Where(p => p.Value == device).Select(p => p.Key).OrderBy(p => p.Id).ToArray();
}
