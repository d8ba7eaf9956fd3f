using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Netmem.Actors.Devices;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Actors.Tests;

/// <summary>
/// One device wired as the runtime wires it (network stack, device supervisor, real driver over synthetic traffic,
/// strict IOMMU model), with the probes and figures the scenarios assert on.
/// </summary>
internal sealed class DeviceHarness
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(5);

    private readonly TestKitBase _kit;
    private readonly TestProbe _probe;
    private readonly ConcurrentDictionary<int, CrashingTrafficSource> _sources = new();
    private readonly TimeSpan _unbindPatience;

    private DeviceHarness(TestKitBase kit, HarnessOptions options)
    {
        _kit = kit;
        Options = options;
        _probe = kit.CreateTestProbe();
        Iommu = new IommuModel(options.Name);
        Demultiplexer = new FlowDemultiplexer();
        Stack = kit.Sys.ActorOf(NetworkStackActor.Props(Demultiplexer), options.Name + "-stack");
        UndeliveredBatchReclaimer.Start(kit.Sys, options.Name + "-reclaimer");
        DeviceOptions device = new()
        {
            Device = new SimulatedDevice(new SimulatedDeviceOptions
            {
                Name = options.Name,
                Iommu = Iommu,
                TrafficSourceFactory = SourceFor,
                RxQueueDecorator = (queue, receiver) => new CrashingRxQueue(receiver, _sources[queue]),
                DmaDeviceDecorator = options.DecorateDmaDevice,
                BeforeTeardown = options.BeforeTeardown,
            }),
            QueueCount = options.Queues,
            PoolOptions = _ => new PagePoolOptions { SyncForDevice = true },
            Driver = new DriverOptions { RingSize = options.RingSize },
            BindOnStart = false,
            // Longer than the runtime's 1–2 s, so that a loaded machine does not time out a clean unbind; specs of a
            // timeout set their own.
            QuiesceTimeout = PhaseTimeout,
            DestroyTimeout = PhaseTimeout,
            TeardownTimeout = PhaseTimeout,
        };
        device = options.Customize(device);
        _unbindPatience = Patience + device.MaxUnbindDuration;
        Device = kit.Sys.ActorOf(DeviceSupervisor.Props(device, Stack), "device-" + options.Name);
    }

    public HarnessOptions Options { get; }

    /// <summary>The consumer a scenario opened to hold pages, if it keeps one here.</summary>
    public IActorRef? Consumer { get; set; }

    public IommuModel Iommu { get; }

    public FlowDemultiplexer Demultiplexer { get; }

    public IActorRef Stack { get; }

    public IActorRef Device { get; }

    /// <summary>The pools of the current bind, by queue (kept after unbind so late returns can be checked).</summary>
    public IReadOnlyList<PagePool> Pools { get; private set; } = [];

    public IReadOnlyList<CrashingTrafficSource> Sources => _sources.OrderBy(s => s.Key).Select(s => s.Value).ToArray();

    /// <summary>Flow <paramref name="index"/>: UDP 10.0.0.(index+1):(10000+index) → 10.0.0.254:5000; queue = index mod queues.</summary>
    public static FlowKey Flow(int index) =>
        new(IpAddress.FromIPv4(0x0A00_0001u + (uint)index), IpAddress.FromIPv4(0x0A00_00FEu), (ushort)(10_000 + index), 5000, IpProtocol.Udp);

    /// <summary>Starts the stack and the device supervisor, unbound, so consumers can be opened before traffic flows.</summary>
    public static DeviceHarness Start(TestKitBase kit, HarnessOptions options) => new(kit, options);

    public static DeviceHarness StartBound(TestKitBase kit, HarnessOptions options)
    {
        var harness = new DeviceHarness(kit, options);
        harness.Bind();
        return harness;
    }

    public Bound Bind()
    {
        Device.Tell(Protocol.Bind.Instance, _probe);
        Bound bound = _probe.ExpectMsg<Bound>(Patience);
        Pools = bound.Pools.Select(info => PagePoolRegistry.Find(info.Id) ?? throw new InvalidOperationException($"pool {info.Id} is not listed")).ToArray();
        return bound;
    }

    public UnbindReport Unbind()
    {
        Device.Tell(Protocol.Unbind.Instance, _probe);
        UnbindReport report = _probe.ExpectMsg<Unbound>(_unbindPatience).Report;
        _kit.Sys.Log.Info(
            $"{report.Device} unbind #{report.Generation}: {report.Duration.TotalMilliseconds:F2} ms; ring pages {report.RingPagesReturned}, "
            + $"inflight {report.InflightAtUnbind}, unmapped by destroy {report.UnmappedByDestroy}, still held {report.StillHeld}; phases: "
            + string.Join(", ", report.Phases.Select(p => $"{p.Phase} {p.Outcome} {p.Duration.TotalMilliseconds:F2} ms")));
        return report;
    }

    /// <summary>Opens a consumer for the flows of <paramref name="flowIndexes"/>.</summary>
    public IActorRef OpenConsumer(string name, IEnumerable<int> flowIndexes, ConsumerBehavior behavior, int capacity = 16_384)
    {
        Stack.Tell(new OpenConsumer(new ConsumerSpec(name, flowIndexes.Select(Flow).ToArray(), capacity, behavior)), _probe);
        return _probe.ExpectMsg<ConsumerOpened>(Patience).Consumer;
    }

    public ConsumerStatus StatusOf(IActorRef consumer)
    {
        consumer.Tell(GetConsumerStatus.Instance, _probe);
        return _probe.ExpectMsg<ConsumerStatus>(Patience);
    }

    public HeldReleased Release(IActorRef consumer)
    {
        consumer.Tell(ReleaseHeld.Instance, _probe);
        return _probe.ExpectMsg<HeldReleased>(Patience);
    }

    public DeviceStatus Status()
    {
        Device.Tell(GetDeviceStatus.Instance, _probe);
        return _probe.ExpectMsg<DeviceStatus>(Patience);
    }

    /// <summary>
    /// Hold − release summed over the bind's pools: every page they are accountable for, their own caches and rings
    /// included until destroy releases those.
    /// </summary>
    public long PoolInflight => Pools.Sum(p => p.GetStats().Inflight);

    /// <summary>Pages lent out of the bind's pools right now (held by the driver's rings, the stack or sockets).</summary>
    public long PagesLent => Pools.Sum(p => p.GetOutstandingAllocations().Count);

    public long FramesSent => Sources.Sum(s => s.FramesSent);

    public void AwaitAssert(Action assertion) => _kit.AwaitAssert(assertion, Patience, TimeSpan.FromMilliseconds(20));

    /// <summary>The closing check of every scenario: the IOMMU model saw no violation and no leak, and the domain is gone.</summary>
    public void AssertIommuClean(UnbindReport report)
    {
        Assert.Empty(Iommu.Violations);
        Assert.Equal(0, report.DeviceViolations);
        Assert.Equal(0, report.LeakedMappings);
        Assert.False(Iommu.IsBound);
        Assert.Equal(0, Iommu.LiveMappingCount);
    }

    /// <summary>The other closing check: once everything is given back, each pool reaches Released with hold = release.</summary>
    public void AssertEveryPageCameBack()
    {
        AwaitAssert(() =>
        {
            foreach (PagePool pool in Pools)
            {
                PagePoolStats stats = pool.GetStats();
                Assert.Equal(stats.Hold, stats.Release);
                Assert.Equal(PagePoolState.Released, pool.State);
            }
        });
        Assert.Empty(Iommu.Violations);
    }

    /// <summary>Releases what <see cref="Consumer"/> holds, then checks that every page came back.</summary>
    public void AssertEveryPageCameBackOnceReleased()
    {
        Release(Consumer ?? throw new InvalidOperationException("This scenario kept no consumer."));
        AssertEveryPageCameBack();
    }

    private ITrafficSource SourceFor(int queue)
    {
        // The same wire survives driver restarts, as a real NIC's does; a new bind starts a new one.
        if (!_sources.TryGetValue(queue, out CrashingTrafficSource? source) || source.Stopped)
        {
            var flows = Enumerable.Range(0, Options.Flows).Where(i => i % Options.Queues == queue).Select(Flow).ToArray();
            var synthetic = new SyntheticTrafficSource(new SyntheticTrafficOptions
            {
                Flows = flows,
                FramesPerSecond = Options.FramesPerSecond,
                MaxFrames = Options.FramesPerQueue,
                Seed = queue + 1,
            });
            source = new CrashingTrafficSource(synthetic) { CrashOnFrame = queue == 0 ? Options.CrashOnFrame : null };
            _sources[queue] = source;
        }

        return source;
    }
}
