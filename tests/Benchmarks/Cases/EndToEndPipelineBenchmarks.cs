using Akka.Actor;
using Akka.Configuration;
using BenchmarkDotNet.Attributes;
using Netmem.Benchmarks.Columns;
using Netmem.Benchmarks.Support;
using Netmem.Driver;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;

namespace Netmem.Benchmarks.Cases;

/// <summary>
/// End to end through the actor pipeline: <see cref="DriverActor"/> (NAPI polls, DMA writes through the strict IOMMU
/// model, batches of ≤ 64) → <see cref="StackQueueActor"/> (parse, demultiplex) → <see cref="SocketConsumerActor"/>
/// (read, release at once) → the page goes back to its pool. The wire is a synthetic source with a frame always
/// waiting (line rate for the driver), one UDP flow and one consumer per RX queue.
/// </summary>
/// <remarks>
/// One invocation sends <see cref="TotalFrames"/> frames, split over the queues, and waits until consumers have read
/// them all; the time per operation is per packet, so the packets/s column is 10⁹ / that. The iteration setup (not
/// measured) builds fresh pools, device model and traffic; the measured part starts the driver (its first ring
/// fill included) and ends at the last read. The iteration cleanup quiesces and stops the driver, prints each pool's
/// counters (<c>// pool-stats</c> in the log), the driver's polls (<c>// driver-stats</c>: batches, and idle polls
/// that left a queue to the idle timer) and the CPU time the whole process spent per packet in the measured part
/// (<c>// cpu-stats</c>: all threads; on a shared machine it moves far less with the load than the time per packet
/// does), destroys the pools and checks every page came back. The actor system,
/// stack and consumers live for the whole case.
/// <para>Nothing on the pipeline allocates per packet or per batch once warm; what the Allocated column still shows
/// is the start of each measured part (the driver actor, its rings) and the fresh pools growing to the iteration's
/// peak of pages in flight (item blocks, the IOMMU model's mapping table; the page memory comes from one provider
/// shared by every iteration, so after the first it is warm and nothing faults it in). That peak is the
/// consumers' backlog: the driver stays at most <see cref="DriverOptions.MaxBatchesInFlight"/> batches ahead of the
/// stack, but a consumer that falls behind queues up to its socket's capacity, and the pool log's <c>slow</c> and
/// <c>ring_full</c> counts show how much of that was brought in and later released. Each pool's recycle ring is the
/// size <see cref="DriverOptions.RecommendedPoolSize"/> gives for that backlog (capped at 16,384), so a burst of
/// returns lands in the ring instead of being unmapped and mapped again.</para>
/// </remarks>
[BenchmarkCategory("07 end-to-end")]
[InvocationCount(1, unrollFactor: 1)]
[Config(typeof(PacketsPerSecondConfig))]
public class EndToEndPipelineBenchmarks
{
    private const int TotalFrames = 1 << 18;

    // Every frame fits in the socket: a consumer that falls behind queues instead of dropping, so each frame is read.
    private const int SocketCapacity = TotalFrames;
    private const string DeviceName = "bench0";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Each consumer counts its own reads (a consumer actor runs one message at a time, so a plain count is exact; each
    // count on its own cache line), and the last read of each consumer signals once.
    private const int CountSpacing = 16;
    private readonly CountdownEvent _allRead = new(1);
    private readonly DriverStatsLog _driverStats = new();
    private ActorSystem _system = null!;
    private FlowDemultiplexer _demultiplexer = null!;
    private IReadOnlyList<IActorRef> _stackQueues = [];
    private FlowKey[] _flows = [];
    private PagePool[] _pools = [];
    private DriverSetup? _driverSetup;
    private IActorRef? _driver;
    private long[] _read = [];
    private HostPageProvider _memory = null!;
    private double _cpuNsPerPacket;

    [Params(64, 512, 1500)]
    public int FrameSize { get; set; }

    [Params(1, 2)]
    public int Queues { get; set; }

    [GlobalSetup]
    public void SetUp()
    {
        _system = ActorSystem.Create("bench-e2e", ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));
        _demultiplexer = new FlowDemultiplexer();
        IActorRef stack = _system.ActorOf(NetworkStackActor.Props(_demultiplexer), "stack");
        _read = new long[Queues * CountSpacing];

        // One provider for the whole case, its chunks kept from iteration to iteration (a provider frees them only
        // when disposed): each iteration's fresh pools take warm pages, as a long-running host's would, instead of
        // faulting in fresh native memory inside the measured part.
        _memory = new HostPageProvider();
        _flows = new FlowKey[Queues];
        for (int queue = 0; queue < Queues; queue++)
        {
            _flows[queue] = new FlowKey(IpAddress.FromIPv4(0x0A00_0001u + (uint)queue), IpAddress.FromIPv4(0x0A00_00FEu), (ushort)(10_000 + queue), 7_000, IpProtocol.Udp);
            int consumer = queue;
            var behavior = ConsumerBehavior.ReleaseAtOnce with { OnPacketRead = _ => CountRead(consumer) };
            var spec = new ConsumerSpec($"app-{queue}", [_flows[queue]], SocketCapacity, behavior);
            stack.Ask<ConsumerOpened>(new OpenConsumer(spec), Timeout).GetAwaiter().GetResult();
        }

        _stackQueues = stack.Ask<RxQueuesOpened>(new OpenRxQueues(DeviceName, Queues), Timeout).GetAwaiter().GetResult().Queues;
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        _driverStats.Dispose();
        if (!_system.Terminate().Wait(Timeout))
        {
            throw new InvalidOperationException("The actor system did not terminate.");
        }

        _memory.Dispose();
    }

    [IterationSetup]
    public void PrepareDriver()
    {
        Array.Clear(_read);
        _allRead.Reset(Queues);
        var iommu = new IommuModel(DeviceName);
        var driverOptions = new DriverOptions();

        // The recycle ring covers what can be out at once (DriverOptions.RecommendedPoolSize): the RX ring, the
        // batches in flight and the consumer's backlog, which may reach its socket's capacity; that caps at 16,384.
        int poolSize = driverOptions.RecommendedPoolSize(SocketCapacity);
        _pools = new PagePool[Queues];
        var sources = new ITrafficSource[Queues];
        for (int queue = 0; queue < Queues; queue++)
        {
            _pools[queue] = new PagePool(new PagePoolOptions { PoolSize = poolSize, MemoryProvider = _memory, Device = iommu, QueueIndex = queue, Name = $"{DeviceName}-rx{queue}" });
            sources[queue] = new SyntheticTrafficSource(new SyntheticTrafficOptions
            {
                Flows = [_flows[queue]],
                FrameSizes = [new FrameSizeWeight(FrameSize, 1)],
                FramesPerSecond = 0,
                MaxFrames = TotalFrames / Queues,
            });
        }

        var device = new SimulatedDevice(new SimulatedDeviceOptions { Name = DeviceName, Iommu = iommu, TrafficSourceFactory = queue => sources[queue] });
        IDeviceBinding binding = device.Bind(new DeviceBindContext(Queues, _pools[0].PageSize, driverOptions.RingSize));
        _driverSetup = new DriverSetup(DeviceName, binding, _pools, _stackQueues, driverOptions);
    }

    [IterationCleanup]
    public void StopDriverAndCheckPages()
    {
        IActorRef driver = _driver!;
        driver.Ask<Quiesced>(Quiesce.Instance, Timeout).GetAwaiter().GetResult();
        if (!driver.GracefulStop(Timeout).GetAwaiter().GetResult())
        {
            throw new InvalidOperationException("The driver did not stop.");
        }

        string benchmark = $"{nameof(EndToEndPipelineBenchmarks)}(FrameSize={FrameSize}, Queues={Queues})";
        _driverStats.WriteAndReset(benchmark);
        Console.WriteLine($"// cpu-stats {benchmark}: cpu_ns_per_packet={_cpuNsPerPacket:0}");
        foreach (PagePool pool in _pools)
        {
            PoolStatsLog.Write($"{nameof(EndToEndPipelineBenchmarks)}(FrameSize={FrameSize}, Queues={Queues})", pool);
            pool.Destroy();
            if (!pool.WaitForReleaseAsync(Timeout).GetAwaiter().GetResult())
            {
                throw new InvalidOperationException($"{pool} still has pages out after the run: the pipeline lost some.");
            }
        }

        _driver = null;
    }

    [Benchmark(OperationsPerInvoke = TotalFrames)]
    public void DriverToConsumerAndBack()
    {
        TimeSpan cpuAtStart = Environment.CpuUsage.TotalTime;
        _driver = _system.ActorOf(DriverActor.Props(_driverSetup!));
        bool allRead = _allRead.Wait(Timeout);
        _cpuNsPerPacket = (Environment.CpuUsage.TotalTime - cpuAtStart).TotalNanoseconds / TotalFrames;
        if (!allRead)
        {
            throw new InvalidOperationException(
                $"Only {Enumerable.Range(0, Queues).Sum(q => Volatile.Read(ref _read[q * CountSpacing]))} of {TotalFrames} packets were read (demux drops: no socket {_demultiplexer.DroppedNoSocket}, " +
                $"not parsed {_demultiplexer.DroppedNotParsed}, by consumer {_demultiplexer.DroppedByConsumer}).");
        }
    }

    private void CountRead(int consumer)
    {
        ref long read = ref _read[consumer * CountSpacing];
        Volatile.Write(ref read, read + 1);
        if (read == TotalFrames / Queues)
        {
            _allRead.Signal();
        }
    }
}
