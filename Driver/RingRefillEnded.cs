namespace Netmem.Driver;

/// <summary>A deferred ring refill has ended; the driver owns its pages. <paramref name="Failure"/> is null on success.</summary>
internal sealed record RingRefillEnded(int Queue, RingRefill Refill, Exception? Failure);
