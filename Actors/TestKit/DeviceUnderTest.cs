using System.Diagnostics;
using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.TestKit;
using Netmem.Actors.Devices;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Memory;
using Netmem.Simulation;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Netmem.TestKit.Internal;

namespace Netmem.TestKit;

/// <summary>
/// One device stood up in a test's actor system as the runtime wires it (network stack, device supervisor, driver,
/// one pool per RX queue), with the test in control: exact traffic on the simulated wire, consumers on its flows, one
/// fault at a time (<see cref="Faults"/>), and one-line assertions whose messages say what is wrong and where.
/// </summary>
/// <remarks>
/// <para>The device is the simulated NIC with its strict IOMMU model (<see cref="StartSimulated"/>) or any
/// <see cref="INetDevice"/> (<see cref="Start"/>), such as the kernel through io_uring; the kit puts the same seams
/// in front of either, so faults and assertions work on both. Only the simulated wire takes injected frames.</para>
/// <para>With <see cref="VirtualTime"/> as the test's configuration, the supervisor's phase timeouts run on Akka's
/// <see cref="TestScheduler"/>: they fire when the test advances time (<see cref="AdvanceTime"/>), never on their
/// own. <see cref="Inject(FlowKey, int, int)"/> then advances time one idle-poll interval at a time while it waits.</para>
/// <para>Call it from the test's thread. Its waits block that thread, never an actor's.</para>
/// </remarks>
public sealed partial class DeviceUnderTest
{
    /// <summary>The test configuration that puts the actor system on virtual time (Akka's <see cref="TestScheduler"/>).</summary>
    public const string VirtualTime = @"akka.scheduler.implementation = ""Akka.TestKit.TestScheduler, Akka.TestKit""";

    /// <summary>
    /// The kit's unbind phase timeouts, longer than the runtime's (1–2 s): a test machine loaded for a second
    /// must not turn a clean unbind into a timed-out one. A test of a timeout sets its own in <see cref="DeviceUnderTestOptions.Customize"/>.
    /// </summary>
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(5);

    private static readonly ConditionalWeakTable<ActorSystem, IActorRef> Reclaimers = new();

    private readonly TestKitBase _kit;
    private readonly DeviceUnderTestOptions _options;
    private readonly FaultSwitches _switches = new();
    private readonly RingLedger _ring = new();
    private readonly FaultyNetDevice _device;
    private readonly InjectedWire? _wire;
    private readonly TimeSpan _idlePollInterval;
    private readonly TimeSpan _unbindPatience;
    private readonly List<PagePool> _everyPool = [];
    private readonly List<UnbindReport> _reports = [];
    private readonly List<ScenarioConsumer> _consumers = [];
    private readonly List<SocketConsumer> _sockets = [];
    private readonly List<HostPageProvider> _providers = [];
    private readonly System.Collections.Concurrent.ConcurrentQueue<PoisonViolation> _poisonViolations = new();
    private readonly List<PacketForwarder.Route> _routes = [];
    private int _consumerCount;

    private DeviceUnderTest(TestKitBase kit, INetDevice device, InjectedWire? wire, IommuModel? iommu, DeviceUnderTestOptions options)
    {
        ArgumentNullException.ThrowIfNull(kit);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Queues, 1);
        _kit = kit;
        _options = options;
        _wire = wire;
        Iommu = iommu;
        Faults = new ScenarioFaults(_switches);
        _device = new FaultyNetDevice(device, _switches, _ring);
        Demultiplexer = new FlowDemultiplexer();
        Stack = kit.Sys.ActorOf(NetworkStackActor.Props(Demultiplexer), device.Name + "-stack");
        lock (Reclaimers)
        {
            if (!Reclaimers.TryGetValue(kit.Sys, out _))
            {
                Reclaimers.Add(kit.Sys, UndeliveredBatchReclaimer.Start(kit.Sys, "testkit-undelivered-batch-reclaimer"));
            }
        }

        DeviceOptions runtimeOptions = new()
        {
            Device = _device,
            QueueCount = options.Queues,
            PoolOptions = CreatePoolOptions,
            Driver = new DriverOptions { RingSize = options.RingSize },
            BindOnStart = false,
            QuiesceTimeout = PhaseTimeout,
            DestroyTimeout = PhaseTimeout,
            TeardownTimeout = PhaseTimeout,
        };
        runtimeOptions = options.Customize?.Invoke(runtimeOptions) ?? runtimeOptions;
        _idlePollInterval = runtimeOptions.Driver.IdlePollInterval;
        _unbindPatience = options.Patience + runtimeOptions.MaxUnbindDuration;
        Supervisor = kit.Sys.ActorOf(DeviceSupervisor.Props(runtimeOptions, Stack), "device-" + device.Name);
        kit.Sys.WhenTerminated.ContinueWith(_ => FreeIdleProviders(), TaskScheduler.Default);
    }

    /// <summary>The device's name: its actors and pools are named after it.</summary>
    public string Name => _device.Name;

    /// <summary>The device supervisor: send it <see cref="Actors.Protocol.Bind"/>, <see cref="Actors.Protocol.Unbind"/> or <see cref="GetDeviceStatus"/> yourself to test the protocol.</summary>
    public IActorRef Supervisor { get; }

    /// <summary>The network stack actor the device's RX queues hand their batches to.</summary>
    public IActorRef Stack { get; }

    /// <summary>The simulated device's strict IOMMU model, which judges every device call; null on any other device.</summary>
    public IommuModel? Iommu { get; }

    /// <summary>The faults the scenario can arm, one at a time.</summary>
    public ScenarioFaults Faults { get; }

    /// <summary>The pools of the current (or last) bind, by queue.</summary>
    public IReadOnlyList<PagePool> Pools { get; private set; } = [];

    internal FlowDemultiplexer Demultiplexer { get; }

    /// <summary>
    /// The simulated device with its strict IOMMU model, <see cref="DeviceUnderTestOptions.Queues"/> RX queues and a
    /// wire that carries exactly the frames the test injects; started unbound, so consumers can be opened first.
    /// </summary>
    public static DeviceUnderTest StartSimulated(TestKitBase kit, DeviceUnderTestOptions? options = null)
    {
        options ??= new DeviceUnderTestOptions();
        var wire = new InjectedWire(options.Queues);
        var iommu = new IommuModel(options.Name);
        var device = new SimulatedDevice(new SimulatedDeviceOptions { Name = options.Name, Iommu = iommu, TrafficSourceFactory = wire.Open });
        return new DeviceUnderTest(kit, device, wire, iommu, options);
    }

    /// <summary>
    /// Any device, such as the kernel through io_uring, with the kit's fault seams and DMA bookkeeping in front;
    /// started unbound. Its traffic is whatever reaches it: <see cref="Inject(FlowKey, int, int)"/> is for the simulated wire.
    /// </summary>
    public static DeviceUnderTest Start(TestKitBase kit, INetDevice device, DeviceUnderTestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        return new DeviceUnderTest(kit, device, wire: null, iommu: (device as SimulatedDevice)?.Iommu, options ?? new DeviceUnderTestOptions());
    }

    /// <summary>Flow <paramref name="index"/>: UDP from 10.0.0.(index+1) port 10000+index to 10.0.0.254 port 5000.</summary>
    public static FlowKey Flow(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, 252);
        return new(IpAddress.FromIPv4(0x0A00_0001u + (uint)index), IpAddress.FromIPv4(0x0A00_00FEu), (ushort)(10_000 + index), 5000, IpProtocol.Udp);
    }

    /// <summary>Binds the device (a new DMA domain, pools and driver) and returns the supervisor's <see cref="Bound"/>.</summary>
    /// <exception cref="Exception">The bind was refused; the supervisor's reason is thrown as is.</exception>
    public Bound Bind()
    {
        Bound bound = Supervisor.Ask<Bound>(Actors.Protocol.Bind.Instance, _options.Patience).GetAwaiter().GetResult();
        Pools = bound.Pools.Select(info => PagePoolRegistry.Find(info.Id) ?? throw new InvalidOperationException($"{Name}: pool {info.Id} of the bind is not listed.")).ToArray();
        lock (_everyPool)
        {
            _everyPool.AddRange(Pools);
        }

        return bound;
    }

    /// <summary>
    /// Unbinds the device and returns the report of its <see cref="Unbound"/>, waiting the patience plus the longest an
    /// unbind can take (<see cref="DeviceOptions.MaxUnbindDuration"/>), so that an unbind whose phases time out is
    /// reported by the runtime. Under virtual time a phase that has
    /// to time out needs <see cref="AdvanceTime"/>: send <see cref="Actors.Protocol.Unbind"/> to <see cref="Supervisor"/> yourself then.
    /// </summary>
    public UnbindReport Unbind()
    {
        UnbindReport report = Supervisor.Ask<Unbound>(Actors.Protocol.Unbind.Instance, _unbindPatience).GetAwaiter().GetResult().Report;
        lock (_reports)
        {
            _reports.Add(report);
        }

        return report;
    }

    /// <summary>The supervisor's <see cref="DeviceStatus"/>: state, generation, pools, driver, and what an unbind waits for.</summary>
    public DeviceStatus Status() => Supervisor.Ask<DeviceStatus>(GetDeviceStatus.Instance, _options.Patience).GetAwaiter().GetResult();

    /// <summary>
    /// Opens a socket consumer actor on <paramref name="flows"/> (the runtime's own, supervised by the stack) that
    /// treats its packets as <paramref name="behavior"/> says: release at once (the default), hold for a time, or
    /// hold until <see cref="ScenarioConsumer.ReleaseHeld"/>. Returns once its flows are bound.
    /// </summary>
    /// <exception cref="InvalidOperationException">The consumer could not start; the message says why.</exception>
    public ScenarioConsumer OpenConsumer(IReadOnlyList<FlowKey> flows, ConsumerBehavior? behavior = null, string? name = null, int capacity = 16_384)
    {
        ArgumentNullException.ThrowIfNull(flows);
        var consumer = new ScenarioConsumer(name ?? $"consumer-{Interlocked.Increment(ref _consumerCount)}", _options.Patience);
        var spec = new ConsumerSpec(consumer.Name, flows, capacity, consumer.Wrap(behavior ?? ConsumerBehavior.ReleaseAtOnce));
        consumer.Actor = Stack.Ask<ConsumerOpened>(new OpenConsumer(spec), _options.Patience).GetAwaiter().GetResult().Consumer;
        lock (_consumers)
        {
            _consumers.Add(consumer);
        }

        return consumer;
    }

    /// <summary>
    /// Opens a socket on <paramref name="flows"/> that the test reads itself (<c>await foreach</c> over its
    /// <see cref="SocketConsumer.Reader"/>), disposing each packet to give its page back. Complete it to close it.
    /// </summary>
    public SocketConsumer OpenSocket(IReadOnlyList<FlowKey> flows, string? name = null, int capacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(flows);
        var socket = new SocketConsumer(name ?? $"socket-{Interlocked.Increment(ref _consumerCount)}", capacity);
        foreach (FlowKey flow in flows)
        {
            Demultiplexer.Bind(flow, socket);
        }

        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        return socket;
    }

    /// <summary>
    /// Sends every packet of <paramref name="flow"/> to <paramref name="consumer"/>, your own actor, as a
    /// <see cref="ReceivedPacket"/> it owns from then on and must dispose. Returns the routing actor; stopping it
    /// unbinds the flow and gives back the pages still queued for it.
    /// </summary>
    public IActorRef Route(FlowKey flow, IActorRef consumer, int capacity = 1024)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        var route = new PacketForwarder.Route($"route-{Interlocked.Increment(ref _consumerCount)}", consumer);
        var socket = new SocketConsumer(route.Name, capacity);
        Demultiplexer.Bind(flow, socket);
        lock (_routes)
        {
            _routes.Add(route);
        }

        return _kit.Sys.ActorOf(PacketForwarder.Props(Demultiplexer, flow, socket, route), route.Name);
    }

    /// <summary>
    /// Puts <paramref name="count"/> frames of <paramref name="flow"/> on the simulated wire (built with the stack's
    /// <see cref="FrameBuilder"/>, <paramref name="frameLength"/> bytes each, payload seeded with their number) and
    /// returns once the stack has dispatched every one of them to its socket (or dropped it, counted). The frames
    /// go to RX queue <c>SourcePort mod Queues</c>.
    /// </summary>
    /// <exception cref="ScenarioAssertionException">The frames did not all reach the stack within the patience.</exception>
    public void Inject(FlowKey flow, int count = 1, int frameLength = 128)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        InjectedWire wire = SimulatedWire();
        var frames = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            var spec = new FrameSpec(flow, 0) { PayloadSeed = (byte)i };
            frames[i] = new byte[Math.Max(frameLength, FrameBuilder.HeaderLength(spec))];
            FrameBuilder.Write(frames[i], spec with { FrameLength = frames[i].Length });
        }

        InjectOnQueue(wire, flow.SourcePort % wire.QueueCount, frames, $"{count} frame(s) of {flow}");
    }

    /// <summary>
    /// Puts one frame of your own bytes (any content: the stack parses what it can and counts what it cannot) on RX
    /// queue <paramref name="queue"/> of the simulated wire and returns once the stack has dispatched or dropped it.
    /// </summary>
    /// <exception cref="ScenarioAssertionException">The frame did not reach the stack within the patience.</exception>
    public void Inject(ReadOnlySpan<byte> frame, int queue = 0)
    {
        InjectedWire wire = SimulatedWire();
        ArgumentOutOfRangeException.ThrowIfNegative(queue);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(queue, wire.QueueCount);
        InjectOnQueue(wire, queue, [frame.ToArray()], $"a frame of {frame.Length} bytes");
    }

    /// <summary>Moves virtual time forward: timers due by then fire (phase timeouts, driver polls, hold times).</summary>
    /// <exception cref="InvalidOperationException">The test's actor system is not on <see cref="VirtualTime"/>.</exception>
    public void AdvanceTime(TimeSpan by) =>
        (_kit.Sys.Scheduler as TestScheduler ?? throw new InvalidOperationException(
            $"The actor system runs on real time; pass DeviceUnderTest.VirtualTime as the test's configuration to advance time.")).Advance(by);

    /// <summary>Opens a <see cref="LeakScope"/>: pages lent from now on must be back by its assertion.</summary>
    public LeakScope BeginLeakScope() => new(this, OutsideRings().Select(p => p.Allocation.Netmem).ToHashSet());

    private void InjectOnQueue(InjectedWire wire, int queue, byte[][] frames, string what)
    {
        long before = Dispatched();
        foreach (byte[] frame in frames)
        {
            wire.Enqueue(queue, frame);
        }

        long target = before + frames.Length;
        var scheduler = _kit.Sys.Scheduler as TestScheduler;
        long deadline = Stopwatch.GetTimestamp() + (long)(_options.Patience.TotalSeconds * Stopwatch.Frequency);
        while (Dispatched() < target)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new ScenarioAssertionException(
                    $"{Name}: {what} injected on rx{queue}, but only {Dispatched() - before} reached the stack within {_options.Patience.TotalSeconds:0.#} s; "
                    + $"{wire.Waiting} frame(s) still wait on the wire. Is the device bound ({Status().State}), and is its driver running?");
            }

            // On virtual time the driver's idle poll is a timer too: let one interval pass, then look again.
            scheduler?.Advance(_idlePollInterval);
            Thread.Sleep(1);
        }
    }

    private InjectedWire SimulatedWire() =>
        _wire ?? throw new InvalidOperationException($"{Name} is not the simulated device: its traffic is whatever reaches it, not injected frames.");

    private long Dispatched() =>
        Demultiplexer.Queued + Demultiplexer.DroppedNoSocket + Demultiplexer.DroppedNotParsed + Demultiplexer.DroppedByConsumer;

    private PagePoolOptions CreatePoolOptions(int queue)
    {
        // Poisoned, so a page written to after it went back to the provider shows in AssertNoIommuViolation.
        var provider = new HostPageProvider { AllocationFailureInjector = _ => _switches.TakeAllocationFailure(), PoisonFreedPages = true, OnPoisonViolation = _poisonViolations.Enqueue };
        lock (_providers)
        {
            _providers.Add(provider);
        }

        return new PagePoolOptions
        {
            MemoryProvider = provider,
            SyncForDevice = true,
            LeakDetection = _options.CaptureAllocationSites ? LeakDetectionMode.Paranoid : LeakDetectionMode.Disabled,
        };
    }

    /// <summary>Gives back the memory of providers with no page out once the test's actor system is gone.</summary>
    private void FreeIdleProviders()
    {
        lock (_providers)
        {
            foreach (HostPageProvider provider in _providers.Where(p => p.OutstandingPages == 0))
            {
                provider.Dispose();
            }
        }
    }
}
