using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Netmem.Actors.Devices;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Netmem.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>
/// The real device on a UDP socket under the runtime (stack, device supervisor, driver): the kernel hands over bare
/// payloads, the device declares them payloads of the bound flow, and the stack delivers them to that flow's consumer.
/// Traffic goes to loopback only, to the port the kernel picked for this test.
/// </summary>
public sealed class UdpRuntimeSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private const int Datagrams = 600;
    private const int Senders = 4;
    private const int Burst = 50;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [LockedMemoryFact]
    public void Udp_datagrams_sent_to_the_bound_port_reach_the_consumer_of_its_flow_each_with_its_exact_bytes()
    {
        var device = new UringDevice(new UringDeviceOptions { Source = UringSource.Udp(new IPEndPoint(IPAddress.Loopback, 0)), Name = "udp-runtime", SlotsPerQueue = 1024 });
        IActorRef stack = Sys.ActorOf(NetworkStackActor.Props(new FlowDemultiplexer()), "udp-runtime-stack");
        UndeliveredBatchReclaimer.Start(Sys, "udp-runtime-reclaimer");
        IActorRef supervisor = Sys.ActorOf(DeviceSupervisor.Props(
            new DeviceOptions
            {
                Device = device,
                QueueCount = 2,
                Driver = new DriverOptions { RingSize = 256 },
                BindOnStart = false,

                // Generous, so a loaded machine does not turn the unbind into an escalation; nothing here depends on it.
                QuiesceTimeout = Patience,
                DestroyTimeout = Patience,
                TeardownTimeout = Patience,
            },
            stack));
        supervisor.Tell(Bind.Instance);
        Bound bound = ExpectMsg<Bound>(Patience);
        PagePool[] pools = bound.Pools.Select(info => PagePoolRegistry.Find(info.Id)!).ToArray();
        int port = device.CurrentBinding!.BoundPort;

        // Every datagram to the port, whoever sent it, is of one flow: the unknown sender to the bound address and port.
        var flow = new FlowKey(IpAddress.FromIPv4(0), IpAddress.FromIPv4(0x7F00_0001), 0, (ushort)port, IpProtocol.Udp);
        var received = new ConcurrentQueue<byte[]>();
        stack.Tell(new OpenConsumer(new ConsumerSpec("udp-app", [flow], 4096, ConsumerBehavior.ReleaseAtOnce with
        {
            OnRelease = packet =>
            {
                received.Enqueue(packet.Payload.ToArray());
                return false;
            },
        })));
        ExpectMsg<ConsumerOpened>(Patience);

        Dictionary<int, byte[]> sent = Send(port, () => received.Count);

        supervisor.Tell(Unbind.Instance);
        UnbindReport report = ExpectMsg<Unbound>(Patience).Report;
        Assert.Equal(Datagrams, received.Count);
        var byNumber = new Dictionary<int, byte[]>();
        foreach (byte[] payload in received)
        {
            Assert.True(byNumber.TryAdd(BinaryPrimitives.ReadInt32BigEndian(payload), payload), "a datagram was delivered twice");
        }

        Assert.All(sent, datagram => Assert.Equal(datagram.Value, byNumber[datagram.Key]));
        UringCounters counters = device.GetCounters();
        Assert.Equal(Datagrams, counters.FramesReceived);
        Assert.Equal(0, counters.KernelErrors);
        Assert.Equal(0, counters.Violations);
        Assert.Equal(0, report.LeakedMappings);
        Assert.Equal(0, report.DeviceViolations);
        AwaitAssert(() => Assert.All(pools, pool => Assert.Equal(PagePoolState.Released, pool.State)), Patience);
    }

    /// <summary>
    /// Sends <see cref="Datagrams"/> datagrams to loopback <paramref name="port"/> from <see cref="Senders"/> sockets (so
    /// SO_REUSEPORT spreads them over the queues), each numbered and of its own length and bytes, and returns them by
    /// number. It sends <see cref="Burst"/> at a time and waits (bounded) until the consumer has them all, so however
    /// slowly a loaded machine receives, the sockets' buffers never overflow and drop one.
    /// </summary>
    private Dictionary<int, byte[]> Send(int port, Func<int> receivedCount)
    {
        var target = new IPEndPoint(IPAddress.Loopback, port);
        var sockets = Enumerable.Range(0, Senders).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)).ToArray();
        var sent = new Dictionary<int, byte[]>();
        try
        {
            for (int number = 0; number < Datagrams; number++)
            {
                byte[] payload = new byte[4 + (number * 37 % 1400)];
                BinaryPrimitives.WriteInt32BigEndian(payload, number);
                for (int i = 4; i < payload.Length; i++)
                {
                    payload[i] = (byte)((number * 31) + i);
                }

                Assert.Equal(payload.Length, sockets[number % Senders].SendTo(payload, target));
                sent.Add(number, payload);
                if (sent.Count % Burst == 0 || sent.Count == Datagrams)
                {
                    AwaitCondition(() => receivedCount() >= sent.Count, Patience, TimeSpan.FromMilliseconds(10));
                }
            }
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }

        return sent;
    }
}
