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
/// <see cref="UringDevice"/> on an AF_PACKET socket on lo (whole frames, so the stack parses them and demultiplexes
/// on the real flow key), one RX queue, and a consumer for the sender's flows that releases each packet as it reads
/// it. A datagram counts as delivered when the consumer read it; its page then goes back to the pool and, through
/// the driver, back to the kernel.
/// </summary>
/// <remarks>
/// The benchmark runs in a private network namespace, so the packet socket sees only the benchmark's frames. A UDP
/// socket bound to the port (never read, tiny buffer) keeps the kernel from answering each datagram with ICMP.
/// </remarks>
internal sealed class UringRuntimeReceiver : IBenchReceiver
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

    public long Delivered => Volatile.Read(ref _delivered);

    public void Start(int port, int firstSourcePort, int flows)
    {
        _sink = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4096 };
        _sink.Bind(new IPEndPoint(IPAddress.Loopback, port));
        _system = ActorSystem.Create("uring-bench", ConfigurationFactory.ParseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING"));
        _device = new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("lo"), Name = "uring-bench", SlotsPerQueue = SlotsPerQueue });
        var loopback = IpAddress.FromIPv4(0x7F00_0001u);
        FlowKey[] keys = Enumerable.Range(0, flows).Select(f => new FlowKey(loopback, loopback, (ushort)(firstSourcePort + f), (ushort)port, IpProtocol.Udp)).ToArray();
        _runtime = PagePoolRuntime.Start(_system, new PagePoolRuntimeOptions
        {
            Devices = [new DeviceOptions { Device = _device, QueueCount = 1, PoolOptions = _ => new Netmem.Pool.PagePoolOptions { PoolSize = PoolSize }, Driver = new DriverOptions { RingSize = RingSize } }],
            Consumers =
            [
                new ConsumerSpec("bench", keys, 16_384, ConsumerBehavior.ReleaseAtOnce with
                {
                    // Called on the consumer's thread with the running count: a plain store, no allocation.
                    OnPacketRead = read => Volatile.Write(ref _delivered, read),
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
