using Akka.Actor;
using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>
/// An application reading one socket: it owns a <see cref="SocketConsumer"/> bound to its flows, reads it without
/// blocking (the socket queue's wait comes back as a message, see <see cref="SocketReadableNotifier"/>) and holds each
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
    private readonly LinkedList<HeldPacket> _held = new();
    private readonly SocketReadable _readableAgain;
    private long _read;
    private bool _stalled;

    /// <summary>A consumer that opens the socket <paramref name="spec"/> describes and binds its flows in <paramref name="demultiplexer"/>.</summary>
    public SocketConsumerActor(FlowDemultiplexer demultiplexer, ConsumerSpec spec)
    {
        _demultiplexer = demultiplexer;
        _spec = spec;
        _socket = new SocketConsumer(spec.Name, spec.QueueCapacity);
        _readableNotifier = new SocketReadableNotifier(_socket, Self);
        _readableAgain = new SocketReadable(_socket, true);
        Receive<SocketReadable>(OnReadable);
        Receive<ResumeReading>(_ => OnResume());
        Receive<ReleaseExpired>(_ => ReleaseExpiredPackets());
        Receive<ReleaseHeld>(_ => Sender.Tell(new HeldReleased(_spec.Name, ReadQueuedThenReleaseAll())));
        Receive<AnnounceOpened>(_ => Sender.Tell(new ConsumerOpened(_spec.Name, Self)));
        Receive<GetConsumerStatus>(_ => Sender.Tell(new ConsumerStatus(
            _spec.Name, _read, _held.Count, _socket.QueuedCount, _socket.Delivered, _socket.DroppedQueueFull)));
    }

    /// <summary>Set by Akka: the timers that release held packets when their hold time ends.</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>How the stack makes a consumer for <paramref name="spec"/>.</summary>
    public static Props Props(FlowDemultiplexer demultiplexer, ConsumerSpec spec) =>
        Akka.Actor.Props.Create(() => new SocketConsumerActor(demultiplexer, spec));

    /// <summary>Binds the consumer's flows to its socket and starts reading.</summary>
    protected override void PreStart()
    {
        foreach (var flow in _spec.Flows)
        {
            _demultiplexer.Bind(flow, _socket);
        }

        if (_spec.TakesUnmatchedFlows && !_demultiplexer.TryBindUnmatched(_socket))
        {
            throw new InvalidOperationException($"Consumer '{_spec.Name}' cannot take unmatched flows: another consumer already does.");
        }

        _spec.Behavior.OnSocketOpened?.Invoke(_socket);
        WaitForPackets();
    }

    /// <summary>Unbinds its flows, closes its socket (returning what is queued) and disposes every packet it held.</summary>
    protected override void PostStop()
    {
        foreach (var flow in _spec.Flows)
        {
            if (_demultiplexer.TryGetConsumer(flow, out SocketConsumer bound) && ReferenceEquals(bound, _socket))
            {
                _demultiplexer.Unbind(flow);
            }
        }

        if (_spec.TakesUnmatchedFlows)
        {
            _demultiplexer.UnbindUnmatched(_socket);
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

        ReadOrWait();
    }

    /// <summary>Reads a batch (unless stalled) and then either reads on (more queued) or waits for the socket.</summary>
    private void ReadOrWait()
    {
        if (_stalled)
        {
            // The stall's end reads on; the wait stays unarmed meanwhile, so no wake-up is lost or doubled.
            return;
        }

        ReadBatch();
        if (_stalled)
        {
            return;
        }

        if (_socket.QueuedCount > 0)
        {
            Self.Tell(_readableAgain);
        }
        else
        {
            WaitForPackets();
        }
    }

    /// <summary>Reads one batch the way the behaviour asks: released at once on the fast path, or each decided.</summary>
    private void ReadBatch()
    {
        if (_spec.Behavior is { HoldTime.Ticks: 0, DecidePacket: null, OnRelease: null })
        {
            ReadAndReleaseAtOnce();
        }
        else
        {
            ReadAndDecide();
        }
    }

    /// <summary>
    /// The fast path, holding for no time with no callbacks to decide: each packet is released right after it is read,
    /// so it never enters the held queue (the read callback still runs while the packet is held; if it throws, the
    /// packet is released before the failure goes on).
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

    /// <summary>
    /// Reads a batch and treats each packet as the behaviour decides. A packet is held before any callback runs on it,
    /// so a callback that throws crashes the consumer with the packet among the held ones, which the stop gives back.
    /// </summary>
    private void ReadAndDecide()
    {
        ConsumerBehavior behavior = _spec.Behavior;
        long now = Environment.TickCount64;
        for (int i = 0; i < behavior.ReadBatch && !_stalled && _socket.Reader.TryRead(out ReceivedPacket packet); i++)
        {
            long releaseAt = behavior.HoldTime is { } hold ? now + (long)hold.TotalMilliseconds : long.MaxValue;
            LinkedListNode<HeldPacket> entry = _held.AddLast(new HeldPacket(packet, releaseAt));
            _read++;
            behavior.OnPacketRead?.Invoke(_read);
            PacketDecision decision = behavior.DecidePacket?.Invoke(packet) ?? PacketDecision.Hold;
            switch (decision.Kind)
            {
                case PacketDecisionKind.Taken:
                    _held.Remove(entry);
                    continue;
                case PacketDecisionKind.Release:
                    _held.Remove(entry);
                    Release(packet);
                    continue;
                case PacketDecisionKind.Stall:
                    StallFor(decision.Pause);
                    break;
            }

            if (behavior.HoldTime == TimeSpan.Zero && !_stalled)
            {
                _held.Remove(entry);
                Release(packet);
                continue;
            }

            while (_held.Count > behavior.MaxHeld)
            {
                HeldPacket oldest = _held.First!.Value;
                _held.RemoveFirst();
                Release(oldest.Packet);
            }
        }

        if (behavior.HoldTime is { } holdTime && holdTime > TimeSpan.Zero && !Timers.IsTimerActive(ReleaseExpired.Instance))
        {
            Timers.StartPeriodicTimer(ReleaseExpired.Instance, ReleaseExpired.Instance, holdTime);
        }
    }

    /// <summary>A stalled application: it neither reads nor releases until <see cref="ResumeReading"/> arrives.</summary>
    private void StallFor(TimeSpan pause)
    {
        _stalled = true;
        Timers.StartSingleTimer(ResumeReading.Instance, ResumeReading.Instance, pause);
    }

    private void OnResume()
    {
        _stalled = false;
        ReleaseExpiredPackets();
        ReadOrWait();
    }

    private void ReleaseExpiredPackets()
    {
        if (_stalled)
        {
            return;
        }

        long now = Environment.TickCount64;
        while (_held.First is { } first && first.Value.ReleaseAt <= now)
        {
            _held.RemoveFirst();
            Release(first.Value.Packet);
        }
    }

    /// <summary>Lets a packet go after its hold: to <see cref="ConsumerBehavior.OnRelease"/> if it takes it, else disposed.</summary>
    private void Release(ReceivedPacket packet)
    {
        bool taken = false;
        try
        {
            taken = _spec.Behavior.OnRelease?.Invoke(packet) == true;
        }
        finally
        {
            if (!taken && !packet.IsDisposed)
            {
                packet.Dispose();
            }
        }
    }

    /// <summary>
    /// What <see cref="ReleaseHeld"/> means to whoever sent it: every packet already delivered to this consumer is let
    /// go, including those still queued on its socket that the consumer has not read yet (they are read first, through
    /// the behaviour, as a wake-up would have read them). Otherwise a release racing the socket's wake-up would free
    /// nothing, and the packets read a moment later would be held again. A stalled consumer reads nothing.
    /// </summary>
    private int ReadQueuedThenReleaseAll()
    {
        // Bounded by what was queued when the message came: a stack still writing cannot keep the actor here.
        long readUpTo = _read + _socket.QueuedCount;
        while (!_stalled && _read < readUpTo)
        {
            long before = _read;
            ReadBatch();

            if (_read == before)
            {
                break;
            }
        }

        return ReleaseAll();
    }

    private int ReleaseAll()
    {
        int released = _held.Count;
        while (_held.First is { } first)
        {
            _held.RemoveFirst();
            first.Value.Packet.Dispose();
        }

        return released;
    }

    /// <summary>A packet held, and when its hold time is up (<see cref="long.MaxValue"/>: until told).</summary>
    private sealed record HeldPacket(ReceivedPacket Packet, long ReleaseAt);
}
