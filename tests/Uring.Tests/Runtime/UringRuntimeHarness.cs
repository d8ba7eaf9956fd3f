using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit;
using Netmem.Actors.Devices;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Netmem.Uring.Traffic;
using Xunit;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>
/// The real io_uring device wired as the runtime wires it — network stack, undelivered-batch reclaimer, device
/// supervisor, the real driver — with the <see cref="DmaOracle"/> in front of the device, in a private network
/// namespace of its own.
/// </summary>
/// <remarks>
/// <para>Why AF_PACKET on lo and not a UDP socket: a UDP socket hands the device payloads only, all of one flow
/// (any sender to the bound port, see <see cref="UdpRuntimeSpecs"/>), while the scenarios give each flow its own
/// consumer. A packet socket on lo gets whole frames (a zeroed 14-byte Ethernet header, then IPv4 and UDP), so the
/// stack parses the real flow key <c>UDP 127.0.0.1:source → 127.0.0.1:5000</c>. The generator sends from fixed source
/// ports, so consumers are opened for those keys before the first datagram leaves.</para>
/// <para>Why a private namespace: lo is shared by every test run on the machine, and a packet socket on it sees all
/// of their traffic. Inside the scenario's own namespace the only frames on lo are the scenario's, so counts can be
/// exact. A UDP socket bound to the destination port (never read) keeps the kernel from answering each datagram with
/// an ICMP port-unreachable frame.</para>
/// </remarks>
internal sealed class UringRuntimeHarness : IDisposable
{
    public const int DestinationPort = 5000;
    public const int FirstSourcePort = 40_000;
    public const int PayloadBytes = 64;

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly TestKitBase _kit;
    private readonly TestProbe _probe;
    private readonly LoopbackNamespace _namespace;
    private readonly Socket _sink;
    private readonly List<PagePool> _pools = new();

    private UringRuntimeHarness(TestKitBase kit, string name, int ringSize, Func<DeviceOptions, DeviceOptions>? customize)
    {
        _kit = kit;
        _probe = kit.CreateTestProbe();
        _namespace = new LoopbackNamespace();
        try
        {
            _sink = PrivateNetworkNamespace.Run(_namespace.Path, () =>
            {
                var sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                sink.Bind(new IPEndPoint(IPAddress.Loopback, DestinationPort));
                return sink;
            });
            Device = new OracleUringDevice(new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("lo"), Name = name }), _namespace.Path);
            Stack = kit.Sys.ActorOf(NetworkStackActor.Props(new FlowDemultiplexer()), name + "-stack");
            UndeliveredBatchReclaimer.Start(kit.Sys, name + "-reclaimer");
            DeviceOptions options = new()
            {
                Device = Device,
                QueueCount = 1,
                Driver = new DriverOptions { RingSize = ringSize },
                BindOnStart = false,
            };
            Supervisor = kit.Sys.ActorOf(DeviceSupervisor.Props(customize is null ? options : customize(options), Stack), "device-" + name);
        }
        catch
        {
            _namespace.Dispose();
            throw;
        }
    }

    public OracleUringDevice Device { get; }

    public IActorRef Stack { get; }

    public IActorRef Supervisor { get; }

    /// <summary>Every pool of every bind so far (kept after unbind so late returns can be checked).</summary>
    public IReadOnlyList<PagePool> Pools => _pools;

    public UringCounters Counters => Device.Inner.GetCounters();

    /// <summary>Hold − release over every pool: the pages they are accountable for right now.</summary>
    public long PoolInflight => _pools.Sum(p => p.GetStats().Inflight);

    public static UringRuntimeHarness Start(TestKitBase kit, string name, int ringSize = 256, Func<DeviceOptions, DeviceOptions>? customize = null) =>
        new(kit, name, ringSize, customize);

    /// <summary>The key the stack computes for flow <paramref name="index"/>: UDP 127.0.0.1:(40000+index) → 127.0.0.1:5000.</summary>
    public static FlowKey Flow(int index) =>
        new(IpAddress.FromIPv4(0x7F00_0001u), IpAddress.FromIPv4(0x7F00_0001u), (ushort)(FirstSourcePort + index), DestinationPort, IpProtocol.Udp);

    public Bound Bind()
    {
        Supervisor.Tell(Netmem.Actors.Protocol.Bind.Instance, _probe);
        Bound bound = _probe.ExpectMsg<Bound>(Patience);
        _pools.AddRange(bound.Pools.Select(info => PagePoolRegistry.Find(info.Id) ?? throw new InvalidOperationException($"pool {info.Id} is not listed")));
        return bound;
    }

    /// <summary>Unbinds and, the moment <c>Unbound</c> arrives, tells the bind's oracle: any device call from now on is a violation.</summary>
    public UnbindReport Unbind()
    {
        Supervisor.Tell(Netmem.Actors.Protocol.Unbind.Instance, _probe);
        UnbindReport report = _probe.ExpectMsg<Unbound>(Patience).Report;
        Device.Current.Oracle.MarkUnbound();
        _kit.Sys.Log.Info(
            $"{report.Device} unbind #{report.Generation}: {report.Duration.TotalMilliseconds:F2} ms; ring pages {report.RingPagesReturned}, "
            + $"inflight {report.InflightAtUnbind}, unmapped by destroy {report.UnmappedByDestroy}, still held {report.StillHeld}; phases: "
            + string.Join(", ", report.Phases.Select(p => $"{p.Phase} {p.Outcome} {p.Duration.TotalMilliseconds:F2} ms")));
        return report;
    }

    /// <summary>Sends <paramref name="count"/> datagrams from flows <paramref name="firstFlow"/> … +<paramref name="flows"/>−1, inside the namespace.</summary>
    public UdpTrafficReport Send(int firstFlow, int flows, long count, double packetsPerSecond) =>
        new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, DestinationPort),
            NetworkNamespace = _namespace.Path,
            FirstSourcePort = FirstSourcePort + firstFlow,
            Flows = flows,
            Count = count,
            PacketsPerSecond = packetsPerSecond,
            PayloadBytes = PayloadBytes,
            MaxDuration = Patience,
        }).Run();

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
        Supervisor.Tell(GetDeviceStatus.Instance, _probe);
        return _probe.ExpectMsg<DeviceStatus>(Patience);
    }

    /// <summary>Waits (bounded) until <paramref name="count"/> is non-zero and has not moved for 300 ms: the traffic has drained.</summary>
    public void AwaitQuiet(Func<long> count)
    {
        long deadline = Environment.TickCount64 + (long)Patience.TotalMilliseconds;
        long last = -1, since = Environment.TickCount64;
        while (Environment.TickCount64 < deadline)
        {
            long now = count();
            if (now != last)
            {
                (last, since) = (now, Environment.TickCount64);
            }
            else if (now > 0 && Environment.TickCount64 - since >= 300)
            {
                return;
            }

            Thread.Sleep(20);
        }

        Assert.Fail($"The count did not settle within {Patience.TotalSeconds} s (last {last}).");
    }

    public void AwaitAssert(Action assertion) => _kit.AwaitAssert(assertion, Patience, TimeSpan.FromMilliseconds(20));

    /// <summary>
    /// The closing check of every scenario, once unbound: the oracle saw no violation in any bind, the supervisor's
    /// report none and no leak, the kernel no error, and every registration is gone, each unpin confirmed by the kernel.
    /// </summary>
    public void AssertDeviceClean(UnbindReport report)
    {
        Assert.Empty(Device.Binds.SelectMany(b => b.Oracle.Violations));
        Assert.All(Device.Binds, b => Assert.Equal(0, b.Oracle.LiveCount));
        Assert.Equal(0, report.DeviceViolations);
        Assert.Equal(0, report.LeakedMappings);
        UringCounters counters = Counters;
        Assert.Equal(0, counters.KernelErrors);
        Assert.Equal(0, counters.Violations);
        Assert.Equal(0, counters.LiveSlots);
        Assert.Equal(counters.Unmaps + counters.RevokedAtTeardown, counters.UnpinConfirmations);
        Assert.Equal(counters.Maps, counters.Unmaps + counters.RevokedAtTeardown);
        Assert.Equal(Device.Binds.Sum(b => b.Oracle.Maps), counters.Maps);
        Assert.Equal(Device.Binds.Sum(b => b.Oracle.Unmaps), counters.Unmaps);
        Assert.Null(Device.Inner.CurrentBinding);
    }

    /// <summary>Once everything is given back, each pool of every bind reaches Released with hold = release.</summary>
    public void AssertEveryPageCameBack()
    {
        AwaitAssert(() =>
        {
            foreach (PagePool pool in _pools)
            {
                PagePoolStats stats = pool.GetStats();
                Assert.Equal(stats.Hold, stats.Release);
                Assert.Equal(PagePoolState.Released, pool.State);
            }
        });
        Assert.Empty(Device.Binds.SelectMany(b => b.Oracle.Violations));
    }

    public void Dispose()
    {
        try
        {
            // A scenario that failed half-way leaves the device bound: unbind it (bounded) so its sockets and pins go.
            Supervisor.Ask<Unbound>(Netmem.Actors.Protocol.Unbind.Instance, Patience).Wait(Patience);
        }
        catch (Exception e) when (e is AggregateException or AskTimeoutException or TaskCanceledException)
        {
            _kit.Sys.Log.Warning($"The closing unbind did not answer: {e.Message}");
        }

        _sink.Dispose();
        _namespace.Dispose();
    }
}
