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
    private readonly Dictionary<IActorRef, StartingConsumer> _consumersStarting = new();

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
            if (_consumersStarting.Remove(t.ActorRef, out StartingConsumer? starting))
            {
                string reason = starting.Failure?.Message ?? "it was stopped while starting.";
                starting.Requester?.Tell(new Status.Failure(new InvalidOperationException(
                    $"Consumer '{starting.Name}' stopped before it had bound its flows: {reason}", starting.Failure)));
                UnstashOnceNoConsumerIsStarting();
            }
        });
        Receive<ConsumerOpened>(opened =>
        {
            if (_consumersStarting.Remove(opened.Consumer, out StartingConsumer? starting))
            {
                starting.Requester?.Tell(opened);
                UnstashOnceNoConsumerIsStarting();
            }
        });
        Receive<OpenConsumer>(open =>
        {
            IActorRef consumer = Context.ActorOf(SocketConsumerActor.Props(_demultiplexer, open.Spec), "consumer-" + Uri.EscapeDataString(open.Spec.Name));
            _consumerRestartLimits[consumer] = open.Spec.Behavior.MaxRestartsPerMinute;
            Context.Watch(consumer);

            // The consumer binds its flows in PreStart, which runs on its own dispatcher after ActorOf returns, and
            // reads its mailbox only after that: its answer to AnnounceOpened means its flows are bound. The stack
            // passes that answer on to the requester (the runtime opens its configured consumers with none), or, if
            // the consumer stops first (its start failed), fails the request with the reason. Until every consumer
            // has answered or stopped, the stack opens no RX queue, so a device's first frames find their sockets.
            _consumersStarting[consumer] = new StartingConsumer(open.Spec.Name, Sender.IsNobody() ? null : Sender);
            consumer.Tell(AnnounceOpened.Instance);
        });
    }

    /// <summary>Set by Akka: where RX queue requests wait while a consumer is still starting.</summary>
    public IStash Stash { get; set; } = null!;

    /// <summary>The demultiplexer the stack routes through.</summary>
    public static Props Props(FlowDemultiplexer demultiplexer) => Akka.Actor.Props.Create(() => new NetworkStackActor(demultiplexer));

    /// <summary>Restarts a child that throws, within each consumer's own restart budget; stack queues always restart.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new ChildRestartStrategy(_consumerRestartLimits, RecordStartFailure);

    /// <summary>Keeps why a starting consumer could not start, for the answer to its requester when it stops.</summary>
    private void RecordStartFailure(IActorRef child, Exception cause)
    {
        if (_consumersStarting.TryGetValue(child, out StartingConsumer? starting))
        {
            starting.Failure = cause;
        }
    }

    private void UnstashOnceNoConsumerIsStarting()
    {
        if (_consumersStarting.Count == 0)
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

    /// <summary>A consumer the stack opened that has not yet answered <see cref="AnnounceOpened"/>.</summary>
    private sealed class StartingConsumer(string name, IActorRef? requester)
    {
        public string Name { get; } = name;

        public IActorRef? Requester { get; } = requester;

        public Exception? Failure { get; set; }
    }
}
