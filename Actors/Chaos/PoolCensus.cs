using System.Collections.Concurrent;
using Netmem.Pool;

namespace Netmem.Chaos;

/// <summary>
/// Every pool that served a run's devices, found in <see cref="PagePoolRegistry"/> by device name and kept after
/// the registry lets it go, so the end-of-run checks see pools that were already released.
/// </summary>
public sealed class PoolCensus
{
    private readonly ConcurrentDictionary<int, PagePool> _pools = new();
    private readonly IReadOnlySet<string> _devices;

    public PoolCensus(IEnumerable<string> devices)
    {
        _devices = devices.ToHashSet(StringComparer.Ordinal);
    }

    public IReadOnlyCollection<PagePool> Pools => _pools.Values.OrderBy(p => p.Id).ToArray();

    /// <summary>Records the run's pools now listed in the registry.</summary>
    public void Observe()
    {
        foreach (PagePool pool in PagePoolRegistry.Pools)
        {
            if (pool.Device?.Name is { } device && _devices.Contains(device))
            {
                _pools.TryAdd(pool.Id, pool);
            }
        }
    }

    /// <summary>The device's pools, observed now and before.</summary>
    public IReadOnlyList<PagePool> PoolsOf(string device)
    {
        Observe();
        return _pools.Values.Where(p => p.Device?.Name == device).OrderBy(p => p.Id).ToArray();
    }
}
