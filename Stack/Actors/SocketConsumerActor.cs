using Akka.Actor;
using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>
/// An application reading one socket: it owns a <see cref="SocketConsumer"/> bound to its flows, reads it without
/// blocking (the channel's wait comes back as a message, see <see cref="SocketReadableNotifier"/>) and holds each
/// packet as its <see cref="ConsumerBehavior"/> says. Holding is what keeps pages inflight while a device unbinds.
/// </summary>
/// <remarks>
/// When the actor stops or restarts, <see cref="PostStop"/> unbinds its flows, closes its socket (which returns
/// the pages still queued) and disposes every packet it holds (returning their pages), so a crashed consumer leaks
/// nothing. A restarted consumer opens a fresh socket on the same flows.
/// </remarks>
public sealed class SocketConsumerActor : ReceiveActor, IWithTimers
{
    private readonly FlowDemultiplexer _demultiplexer;
    private readonly ConsumerSpec _spec;
    private readonly SocketConsumer _socket;
    private readonly SocketReadableNotifier _readableNotifier;
    private readonly Queue<(ReceivedPacket Packet, long ReleaseAt)> _held = new();
    private long _read;

    public SocketConsumerActor(FlowDemultiplexer demultiplexer, ConsumerSpec spec)
    {
        _demultiplexer = demultiplexer;
        _spec = spec;
        _socket = new SocketConsumer(spec.Name, spec.QueueCapacity);
        _readableNotifier = new SocketReadableNotifier(_socket, Self);
        Receive<SocketReadable>(OnReadable);
        Receive<ReleaseExpired>(_ => ReleaseExpiredPackets());
        Receive<ReleaseHeld>(_ => Sender.Tell(new HeldReleased(_spec.Name, ReleaseAll())));
        Receive<GetConsumerStatus>(_ => Sender.Tell(new ConsumerStatus(
            _spec.Name, _read, _held.Count, _socket.QueuedCount, _socket.Delivered, _socket.DroppedQueueFull)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(FlowDemultiplexer demultiplexer, ConsumerSpec spec) =>
        Akka.Actor.Props.Create(() => new SocketConsumerActor(demultiplexer, spec));

    protected override void PreStart()
    {
        foreach (var flow in _spec.Flows)
        {
            _demultiplexer.Bind(flow, _socket);
        }

        WaitForPackets();
    }

    protected override void PostStop()
    {
        foreach (var flow in _spec.Flows)
        {
            if (_demultiplexer.TryGetConsumer(flow, out SocketConsumer bound) && ReferenceEquals(bound, _socket))
            {
                _demultiplexer.Unbind(flow);
            }
        }

        _socket.Complete();
        ReleaseAll();
    }

    private void WaitForPackets() => _readableNotifier.Arm();

    private void OnReadable(SocketReadable readable)
    {
        // A wait started by an earlier incarnation reports on a socket that is already closed: ignore it.
        if (!ReferenceEquals(readable.Socket, _socket) || !readable.Open)
        {
            return;
        }

        if (_spec.Behavior.HoldTime == TimeSpan.Zero)
        {
            ReadAndReleaseAtOnce();
        }
        else
        {
            ReadAndHold();
        }

        if (_socket.QueuedCount > 0)
        {
            Self.Tell(readable);
        }
        else
        {
            WaitForPackets();
        }
    }

    /// <summary>
    /// Holding for no time: each packet is released right after it is read, so it never enters the held queue (the
    /// callback still runs while the packet is held; if it throws, the packet is released before the failure goes on).
    /// </summary>
    private void ReadAndReleaseAtOnce()
    {
        for (int i = 0; i < _spec.Behavior.ReadBatch && _socket.Reader.TryRead(out ReceivedPacket packet); i++)
        {
            try
            {
                _read++;
                _spec.Behavior.OnPacketRead?.Invoke(_read);
            }
            finally
            {
                packet.Dispose();
            }
        }
    }

    private void ReadAndHold()
    {
        long now = Environment.TickCount64;
        for (int i = 0; i < _spec.Behavior.ReadBatch && _socket.Reader.TryRead(out ReceivedPacket packet); i++)
        {
            long releaseAt = _spec.Behavior.HoldTime is { } hold ? now + (long)hold.TotalMilliseconds : long.MaxValue;
            _held.Enqueue((packet, releaseAt));
            _read++;
            _spec.Behavior.OnPacketRead?.Invoke(_read);
        }

        if (_spec.Behavior.HoldTime is { } holdTime && !Timers.IsTimerActive(ReleaseExpired.Instance))
        {
            Timers.StartPeriodicTimer(ReleaseExpired.Instance, ReleaseExpired.Instance, holdTime);
        }
    }

    private void ReleaseExpiredPackets()
    {
        long now = Environment.TickCount64;
        while (_held.TryPeek(out var entry) && entry.ReleaseAt <= now)
        {
            _held.Dequeue().Packet.Dispose();
        }
    }

    private int ReleaseAll()
    {
        int released = _held.Count;
        while (_held.TryDequeue(out var entry))
        {
            entry.Packet.Dispose();
        }

        return released;
    }
}
