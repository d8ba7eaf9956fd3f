using Akka.Actor;
using Netmem.Stack.Sockets;

namespace Netmem.TestKit.Tests;

/// <summary>A planted bug: a consumer that reads every packet and never disposes one, so every page it got leaks.</summary>
internal sealed class NeverDisposingConsumer : ReceiveActor
{
    private readonly List<ReceivedPacket> _kept = [];

    public NeverDisposingConsumer(IActorRef reportTo) =>
        Receive<ReceivedPacket>(packet =>
        {
            _kept.Add(packet);
            reportTo.Tell(_kept.Count);
        });
}

/// <summary>The same consumer without the bug: it disposes each packet once it has read it.</summary>
internal sealed class DisposingConsumer : ReceiveActor
{
    private int _read;

    public DisposingConsumer(IActorRef reportTo) =>
        Receive<ReceivedPacket>(packet =>
        {
            packet.Dispose();
            reportTo.Tell(++_read);
        });
}
