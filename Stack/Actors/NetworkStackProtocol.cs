using Akka.Actor;
using Netmem.Stack.Rx;

namespace Netmem.Stack.Actors;

// The network stack actor's protocol: RX queues for a device's driver, consumers for applications.

/// <summary>
/// Asks the <see cref="NetworkStackActor"/> for the receive path of each RX queue of a device; it replies
/// <see cref="RxQueuesOpened"/> once every consumer it has opened has bound its flows or stopped, so a device's first
/// frames find their sockets. Asking again for the same device gives the same actors.
/// </summary>
public sealed record OpenRxQueues(string Device, int QueueCount);

/// <summary>The stack actors of a device's RX queues, by queue index: where its driver sends <see cref="RxBatch"/>es.</summary>
public sealed record RxQueuesOpened(string Device, IReadOnlyList<IActorRef> Queues);

/// <summary>
/// Asks the <see cref="NetworkStackActor"/> to start a socket consumer; the reply, <see cref="ConsumerOpened"/>,
/// comes once the consumer has bound its flows. A consumer that cannot start (another consumer already takes the
/// unmatched flows, or its socket-opened callback throws) is stopped, and the reply is a <see cref="Status.Failure"/>
/// saying why, which fails an <c>Ask</c> with an <see cref="InvalidOperationException"/>.
/// </summary>
public sealed record OpenConsumer(ConsumerSpec Spec);

/// <summary>The consumer actor started for <paramref name="Name"/>, its flows bound: traffic sent from now on reaches it.</summary>
public sealed record ConsumerOpened(string Name, IActorRef Consumer);
