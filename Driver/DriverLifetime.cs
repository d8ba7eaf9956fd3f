namespace Netmem.Driver;

/// <summary>
/// The driver state that must outlive a restart: refills still running under the retry pipeline, and the token
/// that cancels them. A restarted driver has the same mailbox, so a refill started by the crashed incarnation reports
/// to the new one, which adopts it instead of allocating on that queue at the same time (the pool's allocation
/// side has one owner). Only a real stop abandons the refills.
/// </summary>
internal sealed class DriverLifetime(int queues)
{
    public RingRefill?[] PendingRefills { get; } = new RingRefill?[queues];

    public CancellationTokenSource Stopping { get; } = new();
}
