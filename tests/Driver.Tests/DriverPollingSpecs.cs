using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Rx;
using Polly;
using Polly.Retry;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Driver.Tests;

/// <summary>
/// When the driver polls again: at once where work is likely, on the idle timer only for a quiet wire. The idle
/// interval is an hour in these specs, so a queue wrongly left to the timer delivers nothing in the test's time.
/// </summary>
public sealed class DriverPollingSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);
    private readonly IommuModel _iommu = new("poll0");

    [Fact]
    public void A_poll_whose_ring_ran_dry_polls_again_once_the_ring_has_pages_without_waiting_for_the_idle_timer()
    {
        // A ring of 16 against a budget of 64: every poll uses every posted page and stops short of its budget.
        (TestProbe stack, _) = StartDriver("dry0", new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 200 }, ringSize: 16);

        List<RxBatch> batches = ReceiveBatches(stack, 200);

        Assert.All(batches.Take(12), b => Assert.Equal(16, b.Count));
        batches.ForEach(ReturnPages);
        Assert.Empty(_iommu.Violations);
    }

    [Fact]
    public void A_poll_that_finds_the_wire_quiet_is_counted_as_idle_and_leaves_the_queue_to_the_timer_alone()
    {
        using var idlePolls = new IdlePollCounter("quiet0");
        (TestProbe stack, _) = StartDriver("quiet0", new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 0 }, ringSize: 16);

        AwaitAssert(() => Assert.Equal(1, idlePolls.Count), Patience);
        stack.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // One poll chain per queue: nothing else polls while the timer is armed.
        Assert.Equal(1, idlePolls.Count);
    }

    [Fact]
    public void A_deferred_refill_that_lands_polls_at_once()
    {
        bool mapsFail = true;
        _iommu.MapFailureInjector = _ => Volatile.Read(ref mapsFail);
        var retries = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = int.MaxValue, Delay = TimeSpan.FromMilliseconds(5), ShouldHandle = new PredicateBuilder().Handle<DmaMapException>() })
            .Build();
        using var idlePolls = new IdlePollCounter("refill0");
        (TestProbe stack, PagePool pool) = StartDriver("refill0", new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 100 }, ringSize: 64, retries);

        // No page could be posted: the first poll found nothing and left the queue to the (hour-long) timer.
        AwaitAssert(() => Assert.Equal(1, idlePolls.Count), Patience);
        Volatile.Write(ref mapsFail, false);
        List<RxBatch> batches = ReceiveBatches(stack, 100);

        Assert.True(pool.GetStats().MapFailures > 0);
        batches.ForEach(ReturnPages);
        Assert.Empty(_iommu.Violations);
    }

    private static void ReturnPages(RxBatch batch)
    {
        foreach (RxFrame frame in batch.Frames)
        {
            frame.Netmem.ReturnToPool();
        }
    }

    private static List<RxBatch> ReceiveBatches(TestProbe stack, int frames)
    {
        var batches = new List<RxBatch>();
        while (batches.Sum(b => b.Count) < frames)
        {
            batches.Add(stack.ExpectMsg<RxBatch>(Patience));
        }

        return batches;
    }

    private (TestProbe Stack, PagePool Pool) StartDriver(string device, SyntheticTrafficOptions traffic, int ringSize, ResiliencePipeline? retries = null)
    {
        var pool = new PagePool(new PagePoolOptions { Device = _iommu, QueueIndex = 0 });
        TestProbe stack = CreateTestProbe();
        var options = new DriverOptions { RingSize = ringSize, IdlePollInterval = TimeSpan.FromHours(1), DmaMapRetryPipeline = retries };
        IDeviceBinding binding = new SimulatedDevice(new SimulatedDeviceOptions { Name = device, Iommu = _iommu, TrafficSourceFactory = _ => new SyntheticTrafficSource(traffic) })
            .Bind(new DeviceBindContext(1, pool.PageSize, ringSize));
        Sys.ActorOf(DriverActor.Props(new DriverSetup(device, binding, [pool], [stack.Ref], options)));
        return (stack, pool);
    }

    /// <summary>Counts <c>driver.rx.idle_polls</c> of one device.</summary>
    private sealed class IdlePollCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public IdlePollCounter(string device)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == DriverMetrics.MeterName && instrument.Name == "driver.rx.idle_polls")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    if (tag.Key == "device" && Equals(tag.Value, device))
                    {
                        Interlocked.Add(ref _count, value);
                    }
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
