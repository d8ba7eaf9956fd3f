using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Uring;

namespace Netmem.UringBench.Receivers;

/// <summary>
/// The io_uring device end to end, as an application hosts it: <c>PagePoolRuntime.Start</c> with one
/// <see cref="UringDevice"/>, one RX queue, and a consumer that reads each packet's send timestamp and releases it at
/// once. A datagram counts as delivered when the consumer read it; its page then goes back to the pool and, through
/// the driver, back to the kernel. Two sources:
/// <list type="bullet">
/// <item><c>device-packet</c>: an AF_PACKET socket on lo (whole frames, so the stack parses them and demultiplexes on
/// the real flow key, one per sender flow). The benchmark runs in a private network namespace, so the packet socket
/// sees only the benchmark's frames; a UDP socket bound to the port (never read, tiny buffer) keeps the kernel from
/// answering each datagram with ICMP.</item>
/// <item><c>device-udp</c>: a UDP socket on 127.0.0.1:port; the kernel hands over payloads only, which the device
/// declares as the payloads of the one flow <c>UDP 0.0.0.0:0 → 127.0.0.1:port</c>, the consumer's flow.</item>
/// </list>
/// </summary>
/// <remarks>
/// The consumer reads each payload through <see cref="ConsumerBehavior.DecidePacket"/> (the fast release-at-once
/// path exposes only a count), which puts each packet on the consumer's held list for the moment of the decision:
/// that path's per-packet bookkeeping is part of what this receiver measures.
/// </remarks>
internal sealed class UringRuntimeReceiver(bool udp) : IBenchReceiver
{
    // Sizing, measured (docs/benchmarks/io-uring-receive.md):
    // - A deep RX ring keeps the kernel from running out of posted pages between two driver polls: the driver's idle
    //   poll rides the actor scheduler, whose tick is 10 ms (its minimum), and 10 ms at 300 k packets/s is 3000
    //   frames. With 1024 pages the multishot receive died of ENOBUFS once per ring and the socket dropped.
    // - A recycle ring as deep as the RX ring: with the default 1024, a burst of returns overflowed it, and each
    //   overflowing page was unmapped and a fresh one mapped — two buffer-table updates with a page pin/unpin in the
    //   kernel, for a third of all packets. With 4096, a few per cent.
    // - Slots: everything above stays mapped at once (ring, recycle ring, batches in flight in the stack).
    private const int RingSize = 4096;
    private const int PoolSize = 4096;
    private const int SlotsPerQueue = 16384;

    private ActorSystem? _system;
    private UringDevice? _device;
    private PagePoolRuntime? _runtime;
    private Socket? _sink;
    private long _delivered;
    private long _read;
    private LatencyLog? _latencies;

    public long Delivered => Volatile.Read(ref _delivered);

    public void Start(int port, int firstSourcePort, int flows, LatencyLog latencies)
    {
        _latencies = latencies;
        var loopback = IpAddress.FromIPv4(0x7F00_0001u);
        FlowKey[] keys;
        UringSource source;
        if (udp)
        {
            source = UringSource.Udp(new IPEndPoint(IPAddress.Loopback, port));
            keys = [new FlowKey(IpAddress.FromIPv4(0), loopback, 0, (ushort)port, IpProtocol.Udp)];
        }
        else
        {
            _sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4096 };
            _sink.Bind(new IPEndPoint(IPAddress.Loopback, port));
            source = UringSource.Packet("lo");
            keys = Enumerable.Range(0, flows).Select(f => new FlowKey(loopback, loopback, (ushort)(firstSourcePort + f), (ushort)port, IpProtocol.Udp)).ToArray();
        }

        _system = ActorSystem.Create("uring-bench", ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));
        _device = new UringDevice(new UringDeviceOptions { Source = source, Name = "uring-bench", SlotsPerQueue = SlotsPerQueue });
        _runtime = PagePoolRuntime.Start(_system, new PagePoolRuntimeOptions
        {
            Devices = [new DeviceOptions { Device = _device, QueueCount = 1, PoolOptions = _ => new Netmem.Pool.PagePoolOptions { PoolSize = PoolSize }, Driver = new DriverOptions { RingSize = RingSize } }],
            Consumers =
            [
                new ConsumerSpec("bench", keys, 16_384, ConsumerBehavior.ReleaseAtOnce with
                {
                    // Called on the consumer's thread, one packet at a time: the latency into the preallocated log, then
                    // the running count (a plain store), then the consumer releases the packet.
                    DecidePacket = packet =>
                    {
                        _latencies!.Record(_read, packet.Payload);
                        Volatile.Write(ref _delivered, ++_read);
                        return PacketDecision.Release;
                    },
                }),
            ],
        });

        long deadline = Environment.TickCount64 + 10_000;
        while (_device.CurrentBinding is null)
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("The io_uring device did not bind within 10 s.");
            }

            Thread.Sleep(10);
        }
    }

    public string Stop()
    {
        Unbound unbound = _runtime!.Devices.Values.Single().Ask<Unbound>(Unbind.Instance, TimeSpan.FromSeconds(15)).GetAwaiter().GetResult();
        UringCounters c = _device!.GetCounters();
        return $"frames {c.FramesReceived}, ENOBUFS re-arms {c.EnobufsRearms}, violations {c.Violations}, kernel errors {c.KernelErrors}, "
            + $"live slots {c.LiveSlots}, unpins confirmed {c.UnpinConfirmations}/{c.Unmaps + c.RevokedAtTeardown}, unbind clean {unbound.Report.IsClean}";
    }

    public void Dispose()
    {
        _system?.Terminate().Wait(TimeSpan.FromSeconds(10));
        _sink?.Dispose();
    }
}
