using Akka.Actor;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;

namespace Netmem.TestKit.Internal;

/// <summary>
/// Routes one flow's packets to a user's actor: it owns a socket bound to the flow, reads it as packets arrive and
/// tells each <see cref="ReceivedPacket"/> to the target, which owns it from then on and must dispose it. When it
/// stops it unbinds the flow and closes the socket, which returns the pages still queued.
/// </summary>
internal sealed class PacketForwarder : ReceiveActor
{
    private readonly FlowDemultiplexer _demultiplexer;
    private readonly FlowKey _flow;
    private readonly SocketConsumer _socket;
    private readonly Route _route;

    public PacketForwarder(FlowDemultiplexer demultiplexer, FlowKey flow, SocketConsumer socket, Route route)
    {
        _demultiplexer = demultiplexer;
        _flow = flow;
        _socket = socket;
        _route = route;
        Receive<Readable>(readable =>
        {
            if (!readable.Open)
            {
                return;
            }

            while (_socket.Reader.TryRead(out ReceivedPacket packet))
            {
                _route.Target.Tell(packet, Self);
                Interlocked.Increment(ref _route.Forwarded);
            }

            WaitForPackets();
        });
    }

    public static Props Props(FlowDemultiplexer demultiplexer, FlowKey flow, SocketConsumer socket, Route route) =>
        Akka.Actor.Props.Create(() => new PacketForwarder(demultiplexer, flow, socket, route));

    protected override void PreStart() => WaitForPackets();

    protected override void PostStop()
    {
        _demultiplexer.Unbind(_flow, _socket);
        _socket.Complete();
    }

    private void WaitForPackets() =>
        _socket.Reader.WaitToReadAsync().AsTask().PipeTo(Self, success: open => new Readable(open), failure: _ => new Readable(false));

    private sealed record Readable(bool Open);

    /// <summary>One route: its name, the user's actor, and how many packets it handed over (for leak messages).</summary>
    internal sealed class Route(string name, IActorRef target)
    {
        public long Forwarded;

        public string Name => name;

        public IActorRef Target => target;
    }
}
