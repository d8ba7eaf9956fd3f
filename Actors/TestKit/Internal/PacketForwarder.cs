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
    private readonly IActorRef _target;

    public PacketForwarder(FlowDemultiplexer demultiplexer, FlowKey flow, SocketConsumer socket, IActorRef target)
    {
        _demultiplexer = demultiplexer;
        _flow = flow;
        _socket = socket;
        _target = target;
        Receive<Readable>(readable =>
        {
            if (!readable.Open)
            {
                return;
            }

            while (_socket.Reader.TryRead(out ReceivedPacket packet))
            {
                _target.Tell(packet, Self);
            }

            WaitForPackets();
        });
    }

    public static Props Props(FlowDemultiplexer demultiplexer, FlowKey flow, SocketConsumer socket, IActorRef target) =>
        Akka.Actor.Props.Create(() => new PacketForwarder(demultiplexer, flow, socket, target));

    protected override void PreStart() => WaitForPackets();

    protected override void PostStop()
    {
        _demultiplexer.Unbind(_flow, _socket);
        _socket.Complete();
    }

    private void WaitForPackets() =>
        _socket.Reader.WaitToReadAsync().AsTask().PipeTo(Self, success: open => new Readable(open), failure: _ => new Readable(false));

    private sealed record Readable(bool Open);
}
