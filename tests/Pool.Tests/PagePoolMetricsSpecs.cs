using System.Diagnostics.Metrics;
using Netmem.Pool.Dma;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolMetricsSpecs
{
    [Fact]
    public void A_listener_reads_each_pools_allocations_recycles_and_inflight_tagged_by_pool()
    {
        var pool = new PagePool(new PagePoolOptions { Device = new NoOpDmaDevice(), Name = "metrics-spec", QueueIndex = 3 });
        NetmemRef first = pool.Allocate();
        pool.RecycleDirect(first);
        NetmemRef held = pool.Allocate();

        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == PagePoolMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var tagMap = new Dictionary<string, object?>();
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                tagMap[tag.Key] = tag.Value;
            }

            if (Equals(tagMap["pool.id"], pool.Id))
            {
                Assert.Equal(3, tagMap["queue"]);
                string key = instrument.Name + (tagMap.TryGetValue("path", out object? path) ? "/" + path
                    : tagMap.TryGetValue("outcome", out object? outcome) ? "/" + outcome : string.Empty);
                seen[key] = value;
            }
        });
        PagePoolMetrics.EnsureRegistered();
        listener.Start();
        listener.RecordObservableInstruments();

        Assert.Equal(1, seen["pagepool.alloc/fast"]);
        Assert.Equal(1, seen["pagepool.alloc/slow"]);
        Assert.Equal(1, seen["pagepool.recycle/cached"]);
        Assert.Equal(pool.GetStats().Hold, seen["pagepool.pages.held"]);
        Assert.Equal(pool.Inflight, seen["pagepool.inflight"]);

        pool.Return(held);
        pool.Destroy();
    }
}
