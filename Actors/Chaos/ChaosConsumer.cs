using System.Diagnostics;
using Netmem.Stack.Sockets;
using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// The application side of one socket: reads packets, holds each for its profile's hold time (up to a number held
/// at once), then disposes it. Faults come in through three seams: per packet read, a stall (Polly latency) that
/// holds every page it has, or a crash (Polly fault) while holding pages, after which the consumer returns what it
/// held and starts again; per packet let go, a misuse (Polly behaviour). While a late-return storm gathers, packets
/// let go are handed to the storm instead.
/// </summary>
public sealed class ChaosConsumer
{
    private static readonly TimeSpan MinStall = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxStall = TimeSpan.FromMilliseconds(1500);
    private static readonly ResiliencePropertyKey<ReceivedPacket> PacketKey = new("netmem.chaos.packet");

    private readonly int _index;
    private readonly SocketConsumer _socket;
    private readonly ConsumerProfile _profile;
    private readonly ConsumerTally _tally;
    private readonly MisuseTally _misuse;
    private readonly LateReturnStorm _storm;
    private readonly Func<SocketConsumer, ReceivedPacket, bool>? _tap;
    private readonly FaultStream _packets;
    private readonly FaultStream _releases;
    private readonly ResiliencePipeline _onRead;
    private readonly ResiliencePipeline _onRelease;
    private readonly Queue<(ReceivedPacket Packet, long DueTicks)> _held = new();

    /// <param name="tap">Sees every packet read; returning true takes the packet away (see <see cref="ChaosHooks.TapPacket"/>).</param>
    public ChaosConsumer(
        int index,
        SocketConsumer socket,
        ConsumerProfile profile,
        SeededChaos chaos,
        ConsumerTally tally,
        MisuseTally misuse,
        LateReturnStorm storm,
        Func<SocketConsumer, ReceivedPacket, bool>? tap = null)
    {
        _tap = tap;
        _index = index;
        _socket = socket;
        _profile = profile;
        _tally = tally;
        _misuse = misuse;
        _storm = storm;
        _packets = chaos.Ledger.Stream($"consumer{index}/read");
        _releases = chaos.Ledger.Stream($"consumer{index}/release");
        _onRead = new ResiliencePipelineBuilder()
            .AddChaosLatency(chaos.Latency(FaultKind.ConsumerStall, MinStall, MaxStall))
            .AddChaosFault(chaos.Fault(FaultKind.ConsumerThrow, draw => new InjectedConsumerCrashException($"{socket.Name}: injected crash while holding pages ({draw}).")))
            .Build();
        _onRelease = new ResiliencePipelineBuilder()
            .AddChaosBehavior(chaos.Behavior(FaultKind.ConsumerMisuse, Misbehave))
            .Build();
    }

    /// <summary>Consumes until the socket is closed and drained, restarting after every injected crash.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await ConsumeAsync(cancellationToken).ConfigureAwait(false);
                ReleaseAll();
                return;
            }
            catch (InjectedConsumerCrashException)
            {
                ReleaseAll();
                _tally.Crashed();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                ReleaseAll();
                return;
            }
        }
    }

    private async Task ConsumeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            while (_socket.Reader.TryRead(out ReceivedPacket packet))
            {
                if (_tap?.Invoke(_socket, packet) == true)
                {
                    _tally.PacketRead();
                    _tally.PacketReleased();
                    continue;
                }

                _held.Enqueue((packet, Stopwatch.GetTimestamp() + (long)(_profile.HoldTime.TotalSeconds * Stopwatch.Frequency)));
                _tally.PacketRead();
                ResilienceContext context = SeededChaos.Enter(_packets, cancellationToken);
                try
                {
                    await _onRead.ExecuteAsync(static _ => ValueTask.CompletedTask, context).ConfigureAwait(false);
                }
                finally
                {
                    SeededChaos.Leave(context);
                }

                ReleaseDue(Stopwatch.GetTimestamp());
            }

            ReleaseDue(Stopwatch.GetTimestamp());
            Task<bool> more = _socket.Reader.WaitToReadAsync(cancellationToken).AsTask();
            if (_held.Count > 0)
            {
                TimeSpan untilDue = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _held.Peek().DueTicks);
                await Task.WhenAny(more, Task.Delay(untilDue > TimeSpan.Zero ? untilDue : TimeSpan.FromMilliseconds(1), cancellationToken)).ConfigureAwait(false);
                if (!more.IsCompleted)
                {
                    continue;
                }
            }

            if (!await more.ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private void ReleaseDue(long now)
    {
        while (_held.Count > 0 && (_held.Count > _profile.MaxHeld || _held.Peek().DueTicks <= now))
        {
            Release(_held.Dequeue().Packet);
        }
    }

    private void ReleaseAll()
    {
        while (_held.Count > 0)
        {
            _held.Dequeue().Packet.Dispose();
            _tally.PacketReleased();
        }
    }

    private void Release(ReceivedPacket packet)
    {
        _tally.PacketReleased();
        if (_storm.TryHoldBack(_index, packet))
        {
            return;
        }

        ResilienceContext context = SeededChaos.Enter(_releases);
        context.Properties.Set(PacketKey, packet);
        try
        {
            _onRelease.Execute(static (_, p) => p.Dispose(), context, packet);
        }
        finally
        {
            SeededChaos.Leave(context);
        }
    }

    private ValueTask Misbehave(FaultDraw draw, ResilienceContext context)
    {
        PacketMisuse.Commit(context.Properties.GetValue(PacketKey, default(ReceivedPacket)), (MisuseVariant)draw.Choose(Enum.GetValues<MisuseVariant>().Length), _misuse);
        return ValueTask.CompletedTask;
    }
}
