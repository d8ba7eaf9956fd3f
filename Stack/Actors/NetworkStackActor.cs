using Akka.Actor;
using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>
/// The network stack: parent and supervisor of the per-RX-queue <see cref="StackQueueActor"/>s and of the
/// application <see cref="SocketConsumerActor"/>s, which share one <see cref="FlowDemultiplexer"/>.
/// </summary>
/// <remarks>
/// The stack lives apart from the devices: sockets outlive a driver unbind, which is exactly how pages are still
/// held when a device goes. A child that throws is restarted (its <c>PostStop</c> gives back every page it held); one
/// that keeps failing, or cannot start (its flow is taken), is stopped.
/// </remarks>
public sealed class NetworkStackActor : ReceiveActor, IWithUnboundedStash
{
    private readonly FlowDemultiplexer _demultiplexer;
    private readonly Dictionary<string, IActorRef[]> _rxQueues = new();
    private readonly Dictionary<IActorRef, int?> _consumerRestartLimits = new();
    private readonly HashSet<IActorRef> _consumersStarting = [];

    /// <summary>A stack whose queues and consumers share <paramref name="demultiplexer"/> (flow → socket).</summary>
    public NetworkStackActor(FlowDemultiplexer demultiplexer)
    {
        _demultiplexer = demultiplexer;
        Receive<OpenRxQueues>(open =>
        {
            if (_consumersStarting.Count > 0)
            {
                Stash.Stash();
                return;
            }

            Open(open);
        });
        Receive<Terminated>(t =>
        {
            _consumerRestartLimits.Remove(t.ActorRef);
            ConsumerStarted(t.ActorRef);
        });
        Receive<ConsumerOpened>(opened => ConsumerStarted(opened.Consumer));
        Receive<OpenConsumer>(open =>
        {
            IActorRef consumer = Context.ActorOf(SocketConsumerActor.Props(_demultiplexer, open.Spec), "consumer-" + Uri.EscapeDataString(open.Spec.Name));
            _consumerRestartLimits[consumer] = open.Spec.Behavior.MaxRestartsPerMinute;
            Context.Watch(consumer);
            // The consumer binds its flows in PreStart, which runs on its own dispatcher after ActorOf returns. It
            // answers itself, from its mailbox, which it reads only once PreStart has run: so the answer means its
            // flows are bound, and traffic sent after it is routed. The runtime opens its configured consumers
            // without a sender; the stack waits for those itself, and opens no RX queue until each has bound its
            // flows or stopped, so a device's first frames find their sockets.
            if (Sender.IsNobody())
            {
                _consumersStarting.Add(consumer);
                consumer.Tell(new AnnounceOpened(Self));
            }
            else
            {
                consumer.Tell(new AnnounceOpened(Sender));
            }
        });
    }

    /// <summary>Set by Akka: where RX queue requests wait while a configured consumer is still starting.</summary>
    public IStash Stash { get; set; } = null!;

    /// <summary>The demultiplexer the stack routes through.</summary>
    public static Props Props(FlowDemultiplexer demultiplexer) => Akka.Actor.Props.Create(() => new NetworkStackActor(demultiplexer));

    /// <summary>Restarts a child that throws, within each consumer's own restart budget; stack queues always restart.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new ChildRestartStrategy(_consumerRestartLimits);

    private void ConsumerStarted(IActorRef consumer)
    {
        if (_consumersStarting.Remove(consumer) && _consumersStarting.Count == 0)
        {
            Stash.UnstashAll();
        }
    }

    private void Open(OpenRxQueues open)
    {
        if (!_rxQueues.TryGetValue(open.Device, out IActorRef[]? queues) || queues.Length < open.QueueCount)
        {
            IActorRef[] grown = new IActorRef[open.QueueCount];
            for (int i = 0; i < grown.Length; i++)
            {
                grown[i] = queues is not null && i < queues.Length
                    ? queues[i]
                    : Context.ActorOf(StackQueueActor.Props(_demultiplexer, open.Device, i), $"rx-{Uri.EscapeDataString(open.Device)}-{i}");
            }

            _rxQueues[open.Device] = queues = grown;
        }

        Sender.Tell(new RxQueuesOpened(open.Device, queues[..open.QueueCount]));
    }
}
