using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Netmem.Pool;

/// <summary>
/// Publishes every pool's stats through <see cref="System.Diagnostics.Metrics"/> under the meter
/// <c>Netmem.PagePool</c>, so OpenTelemetry, <c>dotnet-counters</c> or a <see cref="MeterListener"/> can read them.
/// </summary>
/// <remarks>
/// <para>A pool publishes from its constructor on, with nothing to call: through a meter of
/// <see cref="PagePoolOptions.MeterFactory"/> when one is given (a host's, so the host's listeners and its lifetime
/// apply), through one process-wide meter otherwise. It stops when it is released (destroyed with its last page
/// back); a destroyed pool still waiting for its pages keeps publishing, so a stuck pool stays visible.</para>
/// <para>Every instrument is observable: nothing is recorded on the hot path; each collection reads the pools'
/// existing counters (<see cref="PagePool.GetStats"/>). One set of instruments serves every pool of a meter, and
/// each measurement is tagged with the pool, so a meter's cost does not grow with the pools it has seen.</para>
/// <para>Names and units follow the OpenTelemetry semantic conventions, in the style of Kestrel's
/// <c>Microsoft.AspNetCore.MemoryPool</c> meter (<c>aspnetcore.memory_pool.*</c>): a <c>pagepool.</c> prefix,
/// UCUM units with annotations in braces, attributes under the same prefix.</para>
/// </remarks>
public static class PagePoolMetrics
{
    /// <summary>The meter's name, to enable in a listener or <c>dotnet-counters</c>.</summary>
    public const string MeterName = "Netmem.PagePool";

    /// <summary>Every instrument's name, as published.</summary>
    public static class Instruments
    {
        /// <summary>Pages a pool is accountable for (held − released): lent out, in its cache and in its ring.</summary>
        public const string PagesInflight = "pagepool.pages.inflight";
        /// <summary>Bytes of the pages a pool is accountable for.</summary>
        public const string MemoryInflight = "pagepool.memory.inflight";
        /// <summary>Pages allocated, by <see cref="Tags.AllocationPath"/>.</summary>
        public const string Allocations = "pagepool.allocations";
        /// <summary>Refills of the alloc cache from the recycle ring, by <see cref="Tags.RefillResult"/>.</summary>
        public const string CacheRefills = "pagepool.cache.refills";
        /// <summary>Pages released at refill because they were not on the pool's preferred NUMA node.</summary>
        public const string PagesWaived = "pagepool.pages.waived";
        /// <summary>Pages returned and kept for reuse, by <see cref="Tags.RecyclePath"/>.</summary>
        public const string Recycles = "pagepool.recycles";
        /// <summary>Returns that could not recycle where they tried, by <see cref="Tags.RecycleMiss"/>.</summary>
        public const string RecycleMisses = "pagepool.recycle.misses";
        /// <summary>Pages brought into the pool from its memory provider (the kernel's <c>pages_state_hold_cnt</c>).</summary>
        public const string PagesHeld = "pagepool.pages.held";
        /// <summary>Pages that left the pool back to its memory provider (the kernel's <c>pages_state_release_cnt</c>).</summary>
        public const string PagesReleased = "pagepool.pages.released";
        /// <summary>DMA map calls to the device that failed.</summary>
        public const string DmaMapFailures = "pagepool.dma.map_failures";
        /// <summary>Memory-provider allocations that failed.</summary>
        public const string ProviderFailures = "pagepool.provider.failures";
        /// <summary>Pages returned after the pool's destroy started; freed without any device call.</summary>
        public const string LateReturns = "pagepool.late_returns";
        /// <summary>Pages inflight when the pool's destroy started (0 before destroy).</summary>
        public const string DestroyInflight = "pagepool.destroy.inflight";
        /// <summary>Pages the pool's destroy unmapped while they were held elsewhere.</summary>
        public const string DestroyUnmapped = "pagepool.destroy.unmapped";
        /// <summary>Pages whose mappings were left to the device's domain teardown and whose memory the pool holds until that teardown has returned.</summary>
        public const string PagesAwaitingDomainTeardown = "pagepool.pages.awaiting_domain_teardown";
        /// <summary>Seconds a destroyed pool has waited for its last pages; only pools destroyed and not yet released.</summary>
        public const string DestroyPendingDuration = "pagepool.destroy.pending.duration";
    }

    /// <summary>The attributes on every measurement, and the ones that say which part of a counter it is.</summary>
    public static class Tags
    {
        /// <summary>The pool's <see cref="PagePool.Id"/>.</summary>
        public const string PoolId = "pagepool.pool.id";
        /// <summary>The pool's <see cref="PagePool.Name"/>.</summary>
        public const string PoolName = "pagepool.pool.name";

        /// <summary>The device's name; absent for a pool that maps nothing.</summary>
        public const string Device = "pagepool.device";

        /// <summary>The RX queue's index; absent for a pool that serves none.</summary>
        public const string Queue = "pagepool.queue";

        /// <summary>On <see cref="Instruments.Allocations"/>: <c>fast</c> (alloc cache) or <c>slow</c> (memory provider).</summary>
        public const string AllocationPath = "pagepool.allocation.path";

        /// <summary>On <see cref="Instruments.CacheRefills"/>: <c>refilled</c> (from the recycle ring) or <c>ring_empty</c>.</summary>
        public const string RefillResult = "pagepool.refill.result";

        /// <summary>On <see cref="Instruments.Recycles"/>: <c>cache</c> (direct, owner side) or <c>ring</c> (any thread).</summary>
        public const string RecyclePath = "pagepool.recycle.path";

        /// <summary>On <see cref="Instruments.RecycleMisses"/>: <c>cache_full</c>, <c>ring_full</c> or <c>refcount</c>.</summary>
        public const string RecycleMiss = "pagepool.recycle.miss";
    }

    private static readonly ConditionalWeakTable<IMeterFactory, PoolMeter> s_factoryMeters = new();
    private static readonly Lazy<PoolMeter> s_processMeter = new(() => new PoolMeter(new Meter(MeterName)));

    /// <summary>Nothing left to do: every pool publishes from its constructor on. Kept for callers from before.</summary>
    public static void EnsureRegistered()
    {
    }

    /// <summary>
    /// Starts publishing <paramref name="pool"/>'s stats on the meter of <paramref name="factory"/>, or on the
    /// process-wide meter; it stops when the pool is released.
    /// </summary>
    internal static void Attach(PagePool pool, IMeterFactory? factory, Task released)
    {
        PoolMeter meter = factory is null
            ? s_processMeter.Value
            : s_factoryMeters.GetValue(factory, f => new PoolMeter(f.Create(new MeterOptions(MeterName))));
        meter.Add(pool);
        released.ContinueWith(static (_, state) => ((PoolMeter.Removal)state!).Run(), new PoolMeter.Removal(meter, pool), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>How many pools the meter of <paramref name="factory"/> (or the process-wide one) still holds.</summary>
    internal static int AttachedPools(IMeterFactory? factory) =>
        factory is null ? (s_processMeter.IsValueCreated ? s_processMeter.Value.Count : 0)
        : s_factoryMeters.TryGetValue(factory, out PoolMeter? meter) ? meter.Count : 0;

    /// <summary>One meter's instruments, reading the pools attached to it.</summary>
    private sealed class PoolMeter
    {
        private readonly ConcurrentDictionary<int, Entry> _pools = new();

        public PoolMeter(Meter meter)
        {
            meter.CreateObservableUpDownCounter(Instruments.PagesInflight, () => Each(e => e.Pool.Inflight), "{page}",
                "Pages a pool is accountable for (held − released): lent out, in its cache and in its recycle ring.");
            meter.CreateObservableUpDownCounter(Instruments.MemoryInflight, () => Each(e => e.Pool.Inflight * e.Pool.PageSize), "By",
                "Bytes of the pages a pool is accountable for.");
            meter.CreateObservableCounter(Instruments.Allocations, () => Split(Tags.AllocationPath, s => s.AllocFast, "fast", s => s.AllocSlow, "slow"), "{page}",
                "Pages allocated: fast from the alloc cache, slow from the memory provider.");
            meter.CreateObservableCounter(Instruments.CacheRefills, () => Split(Tags.RefillResult, s => s.AllocRefill, "refilled", s => s.AllocEmpty, "ring_empty"), "{refill}",
                "Refills of the alloc cache from the recycle ring, and refills that found the ring empty.");
            meter.CreateObservableCounter(Instruments.PagesWaived, () => Each(e => e.Pool.GetStats().AllocWaive), "{page}",
                "Pages released at refill because they were not on the pool's preferred NUMA node.");
            meter.CreateObservableCounter(Instruments.Recycles, () => Split(Tags.RecyclePath, s => s.RecycleCached, "cache", s => s.RecycleRing, "ring"), "{page}",
                "Pages returned and kept for reuse: directly into the alloc cache, or through the recycle ring.");
            meter.CreateObservableCounter(Instruments.RecycleMisses, () => RecycleMisses(), "{page}",
                "Returns that could not recycle where they tried: cache full (then the ring is tried), ring full or extra references (the page is released).");
            meter.CreateObservableCounter(Instruments.PagesHeld, () => Each(e => e.Pool.GetStats().Hold), "{page}",
                "Pages brought into the pool from its memory provider (the kernel's pages_state_hold_cnt).");
            meter.CreateObservableCounter(Instruments.PagesReleased, () => Each(e => e.Pool.GetStats().Release), "{page}",
                "Pages that left the pool back to its memory provider (the kernel's pages_state_release_cnt).");
            meter.CreateObservableCounter(Instruments.DmaMapFailures, () => Each(e => e.Pool.GetStats().MapFailures), "{call}",
                "DMA map calls to the device that failed.");
            meter.CreateObservableCounter(Instruments.ProviderFailures, () => Each(e => e.Pool.GetStats().ProviderFailures), "{call}",
                "Memory-provider allocations that failed.");
            meter.CreateObservableCounter(Instruments.LateReturns, () => Each(e => e.Pool.GetStats().LateReturns), "{page}",
                "Pages returned after the pool's destroy started; freed without any device call.");
            meter.CreateObservableGauge(Instruments.DestroyInflight, () => Each(e => e.Pool.GetStats().InflightAtDestroy), "{page}",
                "Pages inflight when the pool's destroy started (0 before destroy).");
            meter.CreateObservableCounter(Instruments.DestroyUnmapped, () => Each(e => e.Pool.GetStats().UnmappedByDestroy), "{page}",
                "Pages the pool's destroy unmapped while they were held elsewhere.");
            meter.CreateObservableUpDownCounter(Instruments.PagesAwaitingDomainTeardown, () => Each(e => e.Pool.GetStats().AwaitingDomainTeardown), "{page}",
                "Pages whose mappings were left to the device's domain teardown; their memory goes back to the memory provider only once the teardown has returned.");
            meter.CreateObservableGauge(Instruments.DestroyPendingDuration, () => PendingDurations(), "s",
                "How long a destroyed pool has waited for its last pages (only pools destroyed and not yet released).");
        }

        public int Count => _pools.Count;

        public void Add(PagePool pool) => _pools[pool.Id] = new Entry(pool);

        private IEnumerable<Entry> Live()
        {
            foreach (Entry entry in _pools.Values)
            {
                // Released pools are removed by their release's continuation; skip one released since.
                if (entry.Pool.State != PagePoolState.Released)
                {
                    yield return entry;
                }
            }
        }

        private IEnumerable<Measurement<long>> Each(Func<Entry, long> value) =>
            Live().Select(e => new Measurement<long>(value(e), e.Attributes));

        private IEnumerable<Measurement<long>> Split(string tag, Func<PagePoolStats, long> first, string firstName, Func<PagePoolStats, long> second, string secondName)
        {
            foreach (Entry entry in Live())
            {
                PagePoolStats stats = entry.Pool.GetStats();
                yield return new Measurement<long>(first(stats), entry.With(tag, firstName));
                yield return new Measurement<long>(second(stats), entry.With(tag, secondName));
            }
        }

        private IEnumerable<Measurement<long>> RecycleMisses()
        {
            foreach (Entry entry in Live())
            {
                PagePoolStats stats = entry.Pool.GetStats();
                yield return new Measurement<long>(stats.RecycleCacheFull, entry.With(Tags.RecycleMiss, "cache_full"));
                yield return new Measurement<long>(stats.RecycleRingFull, entry.With(Tags.RecycleMiss, "ring_full"));
                yield return new Measurement<long>(stats.RecycleReleasedRefcount, entry.With(Tags.RecycleMiss, "refcount"));
            }
        }

        private IEnumerable<Measurement<double>> PendingDurations()
        {
            foreach (Entry entry in Live())
            {
                if (entry.Pool.GetInfo().StalledFor is { } waiting)
                {
                    yield return new Measurement<double>(waiting.TotalSeconds, entry.Attributes);
                }
            }
        }

        /// <summary>A pool and its tags, built once.</summary>
        private sealed class Entry
        {
            private readonly ConcurrentDictionary<(string, string), KeyValuePair<string, object?>[]> _tagged = new();

            public Entry(PagePool pool)
            {
                Pool = pool;
                var tags = new List<KeyValuePair<string, object?>> { new(Tags.PoolId, pool.Id), new(Tags.PoolName, pool.Name) };
                if (pool.Device?.Name is { } device)
                {
                    tags.Add(new(Tags.Device, device));
                }

                if (pool.QueueIndex >= 0)
                {
                    tags.Add(new(Tags.Queue, pool.QueueIndex));
                }

                Attributes = tags.ToArray();
            }

            public PagePool Pool { get; }

            /// <summary>The pool's own attributes, on every measurement.</summary>
            public KeyValuePair<string, object?>[] Attributes { get; }

            /// <summary>The pool's attributes and one more, cached: a collection allocates no tag arrays.</summary>
            public KeyValuePair<string, object?>[] With(string tag, string value) =>
                _tagged.GetOrAdd((tag, value), static (key, tags) => [.. tags, new(key.Item1, key.Item2)], Attributes);
        }

        /// <summary>What a pool's release runs: it takes the pool off the meter.</summary>
        public sealed class Removal(PoolMeter meter, PagePool pool)
        {
            public void Run() => meter._pools.TryRemove(pool.Id, out _);
        }
    }
}
