using Netmem.Stack.Rx;
using Akka.Actor;

namespace Netmem.Stack.Actors;

/// <summary>The stack actors of a device's RX queues, by queue index: where its driver sends <see cref="RxBatch"/>es.</summary>
public sealed record RxQueuesOpened(string Device, IReadOnlyList<IActorRef> Queues);
