using System.Diagnostics.Metrics;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;
using I = Netmem.Pool.PagePoolMetrics.Instruments;
using T = Netmem.Pool.PagePoolMetrics.Tags;

namespace Netmem.Pool.Tests;

public sealed class PagePoolMetricsSpecs
{
    [Fact]
    public void A_pool_made_through_the_public_api_alone_publishes_its_stats_on_the_process_wide_meter()
    {
        var pool = new PagePool(new PagePoolOptions { Device = new NoOpDmaDevice(), Name = "metrics-spec", QueueIndex = 3 });
        NetmemRef first = pool.Allocate();
        pool.RecycleDirect(first);
        NetmemRef held = pool.Allocate();
        using var recorder = new PoolRecorder(pool.Id, meter => meter.Name == PagePoolMetrics.MeterName && meter.Scope is null);

        recorder.Collect();

        Assert.Equal(1, recorder.Value(I.Allocations, (T.AllocationPath, "fast")));
        Assert.Equal(1, recorder.Value(I.Allocations, (T.AllocationPath, "slow")));
        Assert.Equal(1, recorder.Value(I.Recycles, (T.RecyclePath, "cache")));
        Assert.Equal(0, recorder.Value(I.Recycles, (T.RecyclePath, "ring")));
        Assert.Equal(pool.GetStats().Hold, recorder.Value(I.PagesHeld));
        Assert.Equal(pool.Inflight, recorder.Value(I.PagesInflight));
        Assert.Equal(pool.Inflight * pool.PageSize, recorder.Value(I.MemoryInflight));
        Assert.Equal(0, recorder.Value(I.DestroyInflight));
        Assert.All(recorder.Measurements, m =>
        {
            Assert.Equal("metrics-spec", m.Tags[T.PoolName]);
            Assert.Equal("noop", m.Tags[T.Device]);
            Assert.Equal(3, m.Tags[T.Queue]);
        });

        pool.Return(held);
        pool.Destroy();
    }

    [Fact]
    public void Every_instrument_is_named_and_united_in_the_semantic_convention_style()
    {
        var pool = new PagePool(new PagePoolOptions { Name = "units-spec" });
        using var recorder = new PoolRecorder(pool.Id, meter => meter.Name == PagePoolMetrics.MeterName && meter.Scope is null);

        recorder.Collect();

        var expected = new Dictionary<string, string>
        {
            [I.PagesInflight] = "{page}",
            [I.MemoryInflight] = "By",
            [I.Allocations] = "{page}",
            [I.CacheRefills] = "{refill}",
            [I.PagesWaived] = "{page}",
            [I.Recycles] = "{page}",
            [I.RecycleMisses] = "{page}",
            [I.PagesHeld] = "{page}",
            [I.PagesReleased] = "{page}",
            [I.DmaMapFailures] = "{call}",
            [I.ProviderFailures] = "{call}",
            [I.LateReturns] = "{page}",
            [I.DestroyInflight] = "{page}",
            [I.DestroyUnmapped] = "{page}",
            [I.PagesAwaitingDomainTeardown] = "{page}",
        };
        Assert.Equal(expected, recorder.Measurements.Select(m => (m.Instrument.Name, m.Instrument.Unit!)).Distinct().ToDictionary());
        Assert.All(recorder.Measurements, m => Assert.False(string.IsNullOrWhiteSpace(m.Instrument.Description)));
        Assert.DoesNotContain(recorder.Measurements, m => m.Tags.ContainsKey(T.Device) || m.Tags.ContainsKey(T.Queue));
        pool.Destroy();
    }

    [Fact]
    public void A_destroyed_pool_waiting_for_a_page_keeps_publishing_and_stops_once_released()
    {
        var device = new IommuModel("metrics-eth0");
        var pool = new PagePool(new PagePoolOptions { Device = device, Name = "release-spec", QueueIndex = 0 });
        NetmemRef held = pool.Allocate();
        using var recorder = new PoolRecorder(pool.Id, meter => meter.Name == PagePoolMetrics.MeterName);

        pool.Destroy();
        recorder.Collect();

        Assert.Equal(PagePoolState.Detached, pool.State);
        Assert.Equal(pool.GetStats().InflightAtDestroy, recorder.Value(I.DestroyInflight));
        Assert.True(recorder.Value(I.DestroyInflight) >= 1);
        Assert.Equal(1, recorder.Value(I.DestroyUnmapped));
        Assert.True(recorder.DoubleValue(I.DestroyPendingDuration) >= 0);

        pool.Return(held);
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(1, pool.GetStats().LateReturns);
        recorder.Clear();
        recorder.Collect();

        Assert.Empty(recorder.Measurements);
    }

    [Fact]
    public void A_revoked_pool_publishes_the_pages_waiting_for_the_domain_teardown_until_it_is_told_the_domain_is_gone()
    {
        var device = new IommuModel("metrics-eth1");
        var pool = new PagePool(new PagePoolOptions { Device = device, Name = "teardown-spec", QueueIndex = 0 });
        NetmemRef held = pool.Allocate();
        using var recorder = new PoolRecorder(pool.Id, meter => meter.Name == PagePoolMetrics.MeterName);

        pool.RevokeDeviceAccess();
        pool.Destroy();
        pool.Return(held);
        recorder.Collect();

        Assert.Equal(pool.GetStats().Hold, recorder.Value(I.PagesAwaitingDomainTeardown));
        Assert.True(recorder.Value(I.PagesAwaitingDomainTeardown) >= 1);

        device.Unbind();
        pool.ReleaseAfterDomainTeardown();
        Assert.Equal(PagePoolState.Released, pool.State);
        recorder.Clear();
        recorder.Collect();
        Assert.Empty(recorder.Measurements);
    }

    [Fact]
    public void A_pool_given_a_meter_factory_publishes_on_the_factorys_meter_only_and_stops_when_the_factory_is_disposed()
    {
        var factory = new RecordingMeterFactory();
        var pool = new PagePool(new PagePoolOptions { MeterFactory = factory, Name = "factory-spec", QueueIndex = 1 });
        var other = new PagePool(new PagePoolOptions { MeterFactory = factory, Name = "factory-spec-2" });
        NetmemRef page = pool.Allocate();
        using var onFactory = new PoolRecorder(pool.Id, meter => ReferenceEquals(meter.Scope, factory));
        using var processWide = new PoolRecorder(pool.Id, meter => meter.Name == PagePoolMetrics.MeterName && meter.Scope is null);

        onFactory.Collect();
        processWide.Collect();

        Meter meter = Assert.Single(factory.Meters);
        Assert.Equal(PagePoolMetrics.MeterName, meter.Name);
        Assert.Equal(1, onFactory.Value(I.Allocations, (T.AllocationPath, "slow")));
        Assert.Equal(pool.Inflight, onFactory.Value(I.PagesInflight));
        Assert.Equal("factory-spec", onFactory.Measurements[0].Tags[T.PoolName]);
        Assert.Empty(processWide.Measurements);

        factory.Dispose();
        onFactory.Clear();
        onFactory.Collect();

        Assert.Empty(onFactory.Measurements);
        pool.Return(page);
        pool.Destroy();
        other.Destroy();
    }

    [Fact]
    public async Task A_released_pool_is_let_go_by_its_meter()
    {
        using var factory = new RecordingMeterFactory();
        var pool = new PagePool(new PagePoolOptions { MeterFactory = factory });
        NetmemRef page = pool.Allocate();
        Assert.Equal(1, PagePoolMetrics.AttachedPools(factory));

        pool.Destroy();
        Assert.Equal(1, PagePoolMetrics.AttachedPools(factory));
        pool.Return(page);
        await pool.WaitForReleaseAsync(TimeSpan.FromSeconds(5));

        // The meter lets go from the release's continuation, which runs asynchronously.
        for (int i = 0; i < 500 && PagePoolMetrics.AttachedPools(factory) != 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, PagePoolMetrics.AttachedPools(factory));
    }

    private sealed record Recorded(Instrument Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    /// <summary>Records the measurements of one pool (by its id tag) on the meters a filter picks.</summary>
    private sealed class PoolRecorder : IDisposable
    {
        private readonly MeterListener _listener;
        private readonly List<Recorded> _measurements = new();

        public PoolRecorder(int poolId, Func<Meter, bool> meters)
        {
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (meters(instrument.Meter))
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(poolId, instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(poolId, instrument, value, tags));
            _listener.Start();
        }

        public IReadOnlyList<Recorded> Measurements
        {
            get
            {
                lock (_measurements)
                {
                    return _measurements.ToArray();
                }
            }
        }

        public void Collect() => _listener.RecordObservableInstruments();

        public void Clear()
        {
            lock (_measurements)
            {
                _measurements.Clear();
            }
        }

        public long Value(string instrument, params (string Tag, string Value)[] parts) => (long)DoubleValue(instrument, parts);

        public double DoubleValue(string instrument, params (string Tag, string Value)[] parts) =>
            Assert.Single(Measurements, m => m.Instrument.Name == instrument && parts.All(p => Equals(m.Tags.GetValueOrDefault(p.Tag), p.Value))).Value;

        public void Dispose() => _listener.Dispose();

        private void Record(int poolId, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var map = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                map[tag.Key] = tag.Value;
            }

            if (Equals(map.GetValueOrDefault(T.PoolId), poolId))
            {
                lock (_measurements)
                {
                    _measurements.Add(new Recorded(instrument, value, map));
                }
            }
        }
    }

    /// <summary>An <see cref="IMeterFactory"/> as a host has one: its meters carry it as their scope and die with it.</summary>
    private sealed class RecordingMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = new();

        public IReadOnlyList<Meter> Meters => _meters;

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(new MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
            _meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }
        }
    }
}
