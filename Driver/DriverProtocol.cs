using Netmem.Stack.Actors;
using Netmem.Stack.Rx;

namespace Netmem.Driver;

// The driver actor's protocol: the supervisor's Quiesce and its answer, and the driver's messages to itself.

/// <summary>
/// Tells the driver to stop: stop polling and allocating, end any refill in progress, return every ring page to its
/// pool, then reply <see cref="Quiesced"/>. After it the driver never touches its pools again.
/// </summary>
public sealed record Quiesce
{
    /// <summary>The only instance: the request carries nothing.</summary>
    public static readonly Quiesce Instance = new();

    private Quiesce()
    {
    }
}

/// <summary>The driver has stopped; <paramref name="RingPagesReturned"/> pages went back from its RX rings.</summary>
public sealed record Quiesced(string Device, long RingPagesReturned);

/// <summary>The driver's self-message that runs one NAPI poll of one RX queue.</summary>
internal sealed record PollQueue(int Queue);

/// <summary>
/// Told to the driver by an RX queue's <see cref="Devices.RxInterrupt"/> (from the device's thread) when frames land
/// on a queue whose last poll found its ring empty; one message per queue and driver incarnation, so one told to an
/// earlier incarnation is recognised and ignored.
/// </summary>
internal sealed record WakeQueue(int Queue);

/// <summary>The driver's self-message to try a ring refill again after the retry pipeline gave up.</summary>
internal sealed record RefillQueue(int Queue);

/// <summary>
/// Told to the driver, from the stack's thread, when a batch comes back to a queue that stopped polling because its
/// bound of batches in flight was reached. <paramref name="Batches"/> names the queue's batch pool, so a resume meant
/// for a queue of an earlier incarnation (before a restart) is recognised and ignored.
/// </summary>
internal sealed record ResumePolling(int Queue, RxBatchPool Batches);

/// <summary>A deferred ring refill has ended; the driver owns its pages. <paramref name="Failure"/> is null on success.</summary>
internal sealed record RingRefillEnded(int Queue, RingRefill Refill, Exception? Failure);
