namespace Netmem.Stack.Actors;

/// <summary>
/// Asks the <see cref="NetworkStackActor"/> for the receive path of each RX queue of a device; it replies
/// <see cref="RxQueuesOpened"/>. Asking again for the same device gives the same actors.
/// </summary>
public sealed record OpenRxQueues(string Device, int QueueCount);
