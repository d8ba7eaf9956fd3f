using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// The application behind one socket of a run, expressed as the runtime's own <see cref="ConsumerBehavior"/>: the
/// stack's <see cref="SocketConsumerActor"/> does the reading and holding (the profile's hold time, up to a number
/// held at once), and this decides each packet through the seeded seams. Per packet read: a stall (Polly behaviour
/// drawing its length) that holds every page the consumer has, or a crash (Polly fault) thrown inside the actor
/// while it holds pages, after which the stack restarts it and its pages go back. Per packet let go: a misuse (Polly
/// behaviour), or, while a late-return storm gathers, the packet is handed to the storm instead.
/// </summary>
internal sealed class ChaosConsumer
{
    private static readonly TimeSpan MinStall = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxStall = TimeSpan.FromMilliseconds(1500);
    private static readonly ResiliencePropertyKey<ReceivedPacket> PacketKey = new("netmem.chaos.packet");
    private static readonly ResiliencePropertyKey<TimeSpan> StallKey = new("netmem.chaos.stall");

    private readonly int _index;
    private readonly ConsumerProfile _profile;
    private readonly ConsumerTally _tally;
    private readonly MisuseTally _misuse;
    private readonly LateReturnStorm _storm;
    private readonly Func<SocketConsumer, ReceivedPacket, bool>? _tap;
    private readonly FaultStream _packets;
    private readonly FaultStream _releases;
    private readonly ResiliencePipeline _onRead;
    private readonly ResiliencePipeline _onRelease;
    private readonly List<SocketConsumer> _sockets = new();
    private SocketConsumer? _current;

    /// <param name="tap">Sees every packet read; returning true takes the packet away (see <see cref="ChaosHooks.TapPacket"/>).</param>
    public ChaosConsumer(
        int index,
        ConsumerProfile profile,
        SeededChaos chaos,
        ConsumerTally tally,
        MisuseTally misuse,
        LateReturnStorm storm,
        Func<SocketConsumer, ReceivedPacket, bool>? tap = null)
    {
        _tap = tap;
        _index = index;
        _profile = profile;
        _tally = tally;
        _misuse = misuse;
        _storm = storm;
        Name = $"consumer{index}";
        _packets = chaos.Ledger.Stream($"consumer{index}/read");
        _releases = chaos.Ledger.Stream($"consumer{index}/release");
        _onRead = new ResiliencePipelineBuilder()
            .AddChaosBehavior(chaos.Behavior(FaultKind.ConsumerStall, (draw, context) =>
            {
                context.Properties.Set(StallKey, draw.Between(MinStall, MaxStall));
                return ValueTask.CompletedTask;
            }))
            .AddChaosFault(chaos.Fault(FaultKind.ConsumerThrow, draw => new InjectedConsumerCrashException($"{Name}: injected crash while holding pages ({draw}).")))
            .Build();
        _onRelease = new ResiliencePipelineBuilder()
            .AddChaosBehavior(chaos.Behavior(FaultKind.ConsumerMisuse, Misbehave))
            .Build();
    }

    /// <summary>The consumer's (and its socket's) name.</summary>
    public string Name { get; }

    /// <summary>Every socket the consumer opened: one per incarnation of its actor.</summary>
    public IReadOnlyList<SocketConsumer> Sockets
    {
        get
        {
            lock (_sockets)
            {
                return _sockets.ToArray();
            }
        }
    }

    /// <summary>
    /// The consumer to open on the runtime: the profile's hold time and cap, restarted after every crash (an injected
    /// crash is a fault to survive, not a reason to give up on the application), deciding through this object.
    /// </summary>
    public ConsumerSpec Spec(IReadOnlyList<FlowKey> flows, int queueCapacity) => new(Name, flows, queueCapacity, new ConsumerBehavior
    {
        HoldTime = _profile.HoldTime,
        MaxHeld = _profile.MaxHeld,
        MaxRestartsPerMinute = null,
        DecidePacket = Decide,
        OnRelease = Release,
        OnSocketOpened = Opened,
    });

    private void Opened(SocketConsumer socket)
    {
        lock (_sockets)
        {
            _sockets.Add(socket);
        }

        Volatile.Write(ref _current, socket);
    }

    private PacketDecision Decide(ReceivedPacket packet)
    {
        _tally.PacketRead();
        if (_tap is not null && _tap(Volatile.Read(ref _current)!, packet))
        {
            _tally.PacketReleased();
            return PacketDecision.Taken;
        }

        ResilienceContext context = SeededChaos.Enter(_packets);
        try
        {
            _onRead.Execute(static _ => { }, context);
            return context.Properties.TryGetValue(StallKey, out TimeSpan stall) ? PacketDecision.Stall(stall) : PacketDecision.Hold;
        }
        catch (InjectedConsumerCrashException)
        {
            // The actor crashes with this packet held; the stack restarts it and its held pages go back.
            _tally.Crashed();
            throw;
        }
        finally
        {
            SeededChaos.Leave(context);
        }
    }

    private bool Release(ReceivedPacket packet)
    {
        _tally.PacketReleased();
        if (_storm.TryHoldBack(_index, packet))
        {
            return true;
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

        return true;
    }

    private ValueTask Misbehave(FaultDraw draw, ResilienceContext context)
    {
        PacketMisuse.Commit(context.Properties.GetValue(PacketKey, default(ReceivedPacket)), (MisuseVariant)draw.Choose(Enum.GetValues<MisuseVariant>().Length), _misuse);
        return ValueTask.CompletedTask;
    }
}
