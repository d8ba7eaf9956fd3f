using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Polly;
using Polly.Retry;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Driver.Tests;

public sealed class DriverActorSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private const int RingSize = 128;

    private readonly IommuModel _iommu = new("eth0");

    [Fact]
    public void Polls_hand_the_stack_batches_of_at_most_the_budget_with_every_frame_written_through_the_iommu()
    {
        (PagePool pool, TestProbe stack, _) = StartDriver(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4, TestFlows.TcpV6], MaxFrames = 200 });

        List<RxBatch> batches = ReceiveBatches(stack, 200);

        Assert.Equal(64, batches[0].Count);
        Assert.All(batches, b => Assert.Same(RxFrameFormat.Ethernet, b.Format));
        Assert.All(batches, b => Assert.InRange(b.Count, 1, RxBatch.MaxFrames));
        Assert.Equal(200, _iommu.DmaWrites);
        int index = 0;
        foreach (RxFrame frame in batches.SelectMany(b => b.Frames.ToArray()))
        {
            Assert.True(PacketParser.TryParse(frame.Netmem.GetSpan().Slice(frame.Offset, frame.Length), out ParsedPacket packet));
            Assert.Equal(index++ % 2 == 0 ? TestFlows.UdpV4 : TestFlows.TcpV6, packet.Flow);
            frame.Netmem.ReturnToPool();
        }

        stack.ExpectNoMsg(TimeSpan.FromMilliseconds(50));
        AwaitAssert(() => Assert.Equal(RingSize, pool.GetOutstandingAllocations().Count));
        Assert.Empty(_iommu.Violations);
    }

    [Fact]
    public void Every_batch_carries_the_frame_format_the_device_s_receive_side_declares()
    {
        RxFrameFormat payloads = RxFrameFormat.UdpPayloads(TestFlows.UdpV4);
        var pool = new PagePool(new PagePoolOptions { Device = _iommu, QueueIndex = 0 });
        TestProbe stack = CreateTestProbe();
        IDeviceBinding binding = new SimulatedDevice(new SimulatedDeviceOptions
        {
            Name = "udp0",
            Iommu = _iommu,
            TrafficSourceFactory = _ => new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 100 }),
            RxQueueDecorator = (_, inner) => new DeclaringRxQueue(inner, payloads),
        }).Bind(new DeviceBindContext(1, new PagePoolOptions().PageSize, RingSize));
        Sys.ActorOf(DriverActor.Props(new DriverSetup("udp0", binding, [pool], [stack.Ref], new DriverOptions { RingSize = RingSize })));

        List<RxBatch> batches = ReceiveBatches(stack, 100);

        Assert.All(batches, b => Assert.Same(payloads, b.Format));
        Assert.All(batches.SelectMany(b => b.Frames.ToArray()), frame => frame.Netmem.ReturnToPool());
    }

    [Fact]
    public void Quiesce_stops_polling_and_returns_every_ring_page()
    {
        (PagePool pool, TestProbe stack, IActorRef driver) = StartDriver(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], FramesPerSecond = 20_000 });
        // Paced traffic wakes the driver for a few frames at a time, so the batches are small: each goes back to the
        // driver's batch pool once counted (its pages stay out), or the bound on batches in flight would stop it.
        long received = 0;
        while (received < 100)
        {
            received += TakeAndRecycle(stack.ExpectMsg<RxBatch>(TimeSpan.FromSeconds(5)));
        }

        driver.Tell(Quiesce.Instance);
        Quiesced quiesced = ExpectMsg<Quiesced>();
        received += stack.ReceiveWhile<RxBatch>(TimeSpan.FromMilliseconds(50), m => (m as RxBatch)!).Sum(TakeAndRecycle);
        long writes = _iommu.DmaWrites;

        Assert.Equal(RingSize, quiesced.RingPagesReturned);
        stack.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Assert.Equal(writes, _iommu.DmaWrites);
        Assert.Equal(received, pool.GetOutstandingAllocations().Count);
        Assert.Empty(_iommu.Violations);
    }

    [Fact]
    public void A_refill_that_cannot_map_is_retried_off_the_poll_loop_and_the_driver_keeps_answering()
    {
        _iommu.MapFailureInjector = _ => true;
        var slowRetries = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 100, Delay = TimeSpan.FromSeconds(10), ShouldHandle = new PredicateBuilder().Handle<DmaMapException>() })
            .Build();
        (PagePool pool, _, IActorRef driver) = StartDriver(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4] }, slowRetries);
        AwaitAssert(() => Assert.True(pool.GetStats().MapFailures > 0));

        // A retry waiting 10 s inside a receive would hold this reply back; off the loop, the quiesce cancels it.
        driver.Tell(Quiesce.Instance);
        Quiesced quiesced = ExpectMsg<Quiesced>(TimeSpan.FromSeconds(3));

        Assert.Equal(0, quiesced.RingPagesReturned);
        Assert.Empty(pool.GetOutstandingAllocations());
        Assert.Empty(_iommu.Violations);
    }

    [Fact]
    public void A_refill_retried_with_backoff_fills_the_ring_once_maps_succeed_again()
    {
        _iommu.MapFailureInjector = operation => operation < 40;
        var retries = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = 100, Delay = TimeSpan.FromMilliseconds(1), ShouldHandle = new PredicateBuilder().Handle<DmaMapException>() })
            .Build();
        (PagePool pool, TestProbe stack, _) = StartDriver(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 100 }, retries);

        List<RxBatch> batches = ReceiveBatches(stack, 100);

        Assert.Equal(40, pool.GetStats().MapFailures);
        AwaitAssert(() => Assert.Equal(RingSize + 100, pool.GetOutstandingAllocations().Count));
        batches.SelectMany(b => b.Frames.ToArray()).ToList().ForEach(f => f.Netmem.ReturnToPool());
        Assert.Empty(_iommu.Violations);
    }

    [Fact]
    public void A_crash_mid_poll_returns_the_half_built_batch_and_the_ring_and_the_restarted_driver_goes_on()
    {
        var wire = new ThrowingSource(new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 100 }), throwOnFrame: 10);
        (PagePool pool, TestProbe stack, _) = StartDriver(wire);

        // The first poll dies with 9 frames in hand; none of them reaches the stack, all go back to the pool.
        List<RxBatch> batches = ReceiveBatches(stack, 91);

        Assert.Equal(1, wire.Throws);
        Assert.Equal(91, batches.Sum(b => b.Count));
        AwaitAssert(() => Assert.Equal(RingSize + 91, pool.GetOutstandingAllocations().Count));
        // The crashed instance held exactly one ring's worth: 119 descriptors and the 9 pages of its half-built batch.
        Assert.Equal(RingSize, pool.GetStats().RecycleRing);
        Assert.Empty(_iommu.Violations);
    }

    [Fact]
    public void A_driver_restarted_while_a_refill_is_retrying_adopts_the_refill_instead_of_allocating_beside_it()
    {
        // Maps 0..4 succeed, then every map fails until the test lets them through: the ring gets 5 pages inline and
        // the other 123 are left to a refill that keeps retrying. The first poll then crashes the driver.
        bool mapsFail = true;
        _iommu.MapFailureInjector = operation => operation >= 5 && Volatile.Read(ref mapsFail);
        var retries = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions { MaxRetryAttempts = int.MaxValue, Delay = TimeSpan.FromMilliseconds(5), ShouldHandle = new PredicateBuilder().Handle<DmaMapException>() })
            .Build();
        var wire = new ThrowingSource(new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 0 }), throwOnFrame: 1);
        long deferredRefills = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DriverMetrics.MeterName && instrument.Name == "driver.ring_refill.deferred")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "device" && Equals(tag.Value, "eth-adopt"))
                {
                    Interlocked.Add(ref deferredRefills, value);
                }
            }
        });
        listener.Start();
        (PagePool pool, _, IActorRef driver) = StartDriver(wire, retries, "eth-adopt");
        AwaitAssert(() => Assert.Equal(1, wire.Throws));
        AwaitAssert(() => Assert.Equal(5, pool.GetStats().RecycleRing));
        long failuresAtCrash = pool.GetStats().MapFailures;
        AwaitAssert(() => Assert.True(pool.GetStats().MapFailures > failuresAtCrash + 2));

        Volatile.Write(ref mapsFail, false);

        // The restarted driver waited for the crashed one's refill and took its 123 pages into its ring: nothing but
        // the 5 ring pages went back at the crash, and the ring is full again.
        AwaitAssert(() => Assert.Equal(RingSize, pool.GetOutstandingAllocations().Count));
        Assert.Equal(5, pool.GetStats().RecycleRing);
        Assert.Equal(1, Interlocked.Read(ref deferredRefills));
        driver.Tell(Quiesce.Instance);
        Assert.Equal(RingSize, ExpectMsg<Quiesced>().RingPagesReturned);
        Assert.Empty(pool.GetOutstandingAllocations());
        Assert.Empty(_iommu.Violations);
    }

    [Fact]
    public void A_stopped_driver_returns_its_ring()
    {
        (PagePool pool, _, IActorRef driver) = StartDriver(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], MaxFrames = 0 });
        AwaitAssert(() => Assert.Equal(RingSize, pool.GetOutstandingAllocations().Count));
        Watch(driver);

        Sys.Stop(driver);
        ExpectTerminated(driver);

        Assert.Empty(pool.GetOutstandingAllocations());
    }

    [Fact]
    public void A_queue_with_every_batch_still_at_the_stack_stops_polling_until_the_stack_gives_one_back()
    {
        var pool = new PagePool(new PagePoolOptions { Device = _iommu, QueueIndex = 0 });
        TestProbe stack = CreateTestProbe();
        var wire = new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4] });
        var options = new DriverOptions { RingSize = RingSize, MaxBatchesInFlight = 2 };
        Sys.ActorOf(DriverActor.Props(new DriverSetup("eth0", BindDevice("eth0", wire), [pool], [stack.Ref], options)));

        RxBatch first = stack.ExpectMsg<RxBatch>(TimeSpan.FromSeconds(5));
        RxBatch second = stack.ExpectMsg<RxBatch>(TimeSpan.FromSeconds(5));
        stack.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        long sentWhileStopped = wire.FramesSent;

        ReturnPages(first);
        first.Recycle();
        RxBatch third = stack.ExpectMsg<RxBatch>(TimeSpan.FromSeconds(5));

        Assert.Equal(2 * RxBatch.MaxFrames, sentWhileStopped);
        Assert.Same(first, third);
        stack.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        ReturnPages(second);
        ReturnPages(third);
    }

    [Fact]
    public void A_bound_of_batches_in_flight_below_one_is_refused()
    {
        var options = new DriverOptions { MaxBatchesInFlight = 0 };

        Assert.Throws<ArgumentOutOfRangeException>(() => options.Validate());
    }

    private static void ReturnPages(RxBatch batch)
    {
        foreach (RxFrame frame in batch.Frames)
        {
            frame.Netmem.ReturnToPool();
        }
    }

    private (PagePool Pool, TestProbe Stack, IActorRef Driver) StartDriver(SyntheticTrafficOptions traffic, ResiliencePipeline? retries = null) =>
        StartDriver(new SyntheticTrafficSource(traffic), retries);

    private (PagePool Pool, TestProbe Stack, IActorRef Driver) StartDriver(ITrafficSource wire, ResiliencePipeline? retries = null, string device = "eth0")
    {
        var pool = new PagePool(new PagePoolOptions { Device = _iommu, SyncForDevice = true, QueueIndex = 0 });
        TestProbe stack = CreateTestProbe();
        var options = new DriverOptions { RingSize = RingSize, DmaMapRetryPipeline = retries };
        IActorRef driver = Sys.ActorOf(DriverActor.Props(new DriverSetup(device, BindDevice(device, wire), [pool], [stack.Ref], options)));
        return (pool, stack, driver);
    }

    /// <summary>A simulated device over <paramref name="wire"/>, judged by this spec's IOMMU model, bound for one queue.</summary>
    private IDeviceBinding BindDevice(string name, ITrafficSource wire) =>
        new SimulatedDevice(new SimulatedDeviceOptions { Name = name, Iommu = _iommu, TrafficSourceFactory = _ => wire })
            .Bind(new DeviceBindContext(1, new PagePoolOptions().PageSize, RingSize));

    /// <summary>The batch's frame count; the batch goes back to its pool, its pages stay out.</summary>
    private static int TakeAndRecycle(RxBatch batch)
    {
        int count = batch.Count;
        batch.Recycle();
        return count;
    }

    private static List<RxBatch> ReceiveBatches(TestProbe stack, int frames)
    {
        var batches = new List<RxBatch>();
        while (batches.Sum(b => b.Count) < frames)
        {
            batches.Add(stack.ExpectMsg<RxBatch>(TimeSpan.FromSeconds(5)));
        }

        return batches;
    }

    /// <summary>A receive side that declares its frames <paramref name="format"/>, whatever it writes.</summary>
    private sealed class DeclaringRxQueue(IRxQueueDevice inner, RxFrameFormat format) : IRxQueueDevice
    {
        public RxFrameFormat FrameFormat => format;

        public RxInterrupt? Interrupt => inner.Interrupt;

        public int Posted => inner.Posted;

        public bool TryPost(NetmemRef page) => inner.TryPost(page);

        public int Reap(Span<RxFrame> frames) => inner.Reap(frames);

        public long Close() => inner.Close();
    }

    private sealed class ThrowingSource(ITrafficSource inner, long throwOnFrame) : ITrafficSource
    {
        private long _frames;

        public int Throws { get; private set; }

        public bool TryReceive(Span<byte> destination, out int length)
        {
            if (++_frames == throwOnFrame)
            {
                Throws++;
                throw new InvalidOperationException("injected crash mid-poll");
            }

            return inner.TryReceive(destination, out length);
        }

        public void Stop() => inner.Stop();
    }
}
