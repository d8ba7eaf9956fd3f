namespace Netmem.Stack.Actors;

/// <summary>
/// A consumer's figures for its current incarnation: packets read, packets held now, and its socket's counters
/// (queued now, delivered, dropped because the queue was full).
/// </summary>
public sealed record ConsumerStatus(string Consumer, long Read, int Held, int Queued, long Delivered, long DroppedQueueFull);
