using Akka.Actor;
using Netmem.Stack.Rx;

namespace Netmem.Stack.Actors;

// The network stack actor's protocol: RX queues for a device's driver, consumers for applications.

/// <summary>
/// Asks the <see cref="NetworkStackActor"/> for the receive path of each RX queue of a device; it replies
/// <see cref="RxQueuesOpened"/> once every consumer opened without a requester (the runtime's configured ones) has
/// bound its flows or stopped. Asking again for the same device gives the same actors.
/// </summary>
public sealed record OpenRxQueues(string Device, int QueueCount);

/// <summary>The stack actors of a device's RX queues, by queue index: where its driver sends <see cref="RxBatch"/>es.</summary>
public sealed record RxQueuesOpened(string Device, IReadOnlyList<IActorRef> Queues);

/// <summary>
/// Asks the <see cref="NetworkStackActor"/> to start a socket consumer; the reply, <see cref="ConsumerOpened"/>,
/// comes once the consumer has bound its flows.
/// </summary>
public sealed record OpenConsumer(ConsumerSpec Spec);

/// <summary>The consumer actor started for <paramref name="Name"/>, its flows bound: traffic sent from now on reaches it.</summary>
public sealed record ConsumerOpened(string Name, IActorRef Consumer);
