using System.Diagnostics.Metrics;

namespace Netmem.Pool;

/// <summary>
/// Publishes every listed pool's stats through <see cref="System.Diagnostics.Metrics"/> under the meter
/// <c>Netmem.PagePool</c>, so OpenTelemetry, <c>dotnet-counters</c> or a <see cref="MeterListener"/> can read them.
/// Instruments are observable: nothing is recorded on the hot path; values are read from the pools when collected.
/// </summary>
/// <remarks>
/// Instruments: <c>pagepool.alloc</c> (tag <c>path</c>: fast, slow, empty, refill, waive),
/// <c>pagepool.recycle</c> (tag <c>outcome</c>: cached, cache_full, ring, ring_full, released_refcnt),
/// <c>pagepool.pages.held</c>, <c>pagepool.pages.released</c>, <c>pagepool.late_returns</c> (counters) and
/// <c>pagepool.inflight</c> (gauge). Every measurement carries <c>pool.id</c>, <c>pool.name</c>, <c>device</c> and
/// <c>queue</c>.
/// </remarks>
public static class PagePoolMetrics
{
    public const string MeterName = "Netmem.PagePool";

    private static readonly Meter s_meter = new(MeterName);

    static PagePoolMetrics()
    {
        s_meter.CreateObservableCounter("pagepool.alloc", () => Observe(stats => new[]
        {
            ("fast", stats.AllocFast), ("slow", stats.AllocSlow), ("empty", stats.AllocEmpty),
            ("refill", stats.AllocRefill), ("waive", stats.AllocWaive),
        }, "path"), "{allocations}", "Page allocations by path.");
        s_meter.CreateObservableCounter("pagepool.recycle", () => Observe(stats => new[]
        {
            ("cached", stats.RecycleCached), ("cache_full", stats.RecycleCacheFull), ("ring", stats.RecycleRing),
            ("ring_full", stats.RecycleRingFull), ("released_refcnt", stats.RecycleReleasedRefcount),
        }, "outcome"), "{returns}", "Page returns by outcome.");
        s_meter.CreateObservableCounter("pagepool.pages.held", () => ObserveOne(s => s.Hold), "{pages}", "Pages brought into pools.");
        s_meter.CreateObservableCounter("pagepool.pages.released", () => ObserveOne(s => s.Release), "{pages}", "Pages that left pools.");
        s_meter.CreateObservableCounter("pagepool.late_returns", () => ObserveOne(s => s.LateReturns), "{returns}", "Returns after destroy.");
        s_meter.CreateObservableGauge("pagepool.inflight", () => ObserveOne(s => s.Inflight), "{pages}", "Pages a pool is accountable for.");
    }

    /// <summary>Makes sure the instruments exist; call once at start-up before listeners subscribe.</summary>
    public static void EnsureRegistered() => _ = s_meter;

    private static IEnumerable<Measurement<long>> ObserveOne(Func<PagePoolStats, long> value) =>
        PagePoolRegistry.Pools.Select(pool => new Measurement<long>(value(pool.GetStats()), PoolTags(pool)));

    private static IEnumerable<Measurement<long>> Observe(Func<PagePoolStats, (string Name, long Value)[]> values, string tagName) =>
        PagePoolRegistry.Pools.SelectMany(pool => values(pool.GetStats()).Select(v =>
            new Measurement<long>(v.Value, [.. PoolTags(pool), new KeyValuePair<string, object?>(tagName, v.Name)])));

    private static KeyValuePair<string, object?>[] PoolTags(PagePool pool) =>
    [
        new("pool.id", pool.Id),
        new("pool.name", pool.Name),
        new("device", pool.Device?.Name),
        new("queue", pool.QueueIndex),
    ];
}
