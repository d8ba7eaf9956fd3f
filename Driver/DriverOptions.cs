using Netmem.Stack.Rx;
using Polly;

namespace Netmem.Driver;

/// <summary>How a <see cref="DriverActor"/> runs its RX queues. The seams chaos runs use are all here.</summary>
public sealed record DriverOptions
{
    /// <summary>RX descriptors per queue, each holding one page from the queue's pool.</summary>
    public int RingSize { get; init; } = 256;

    /// <summary>The NAPI budget drivers use unless told otherwise, as in the kernel (<c>NAPI_POLL_WEIGHT</c>).</summary>
    public const int DefaultBudget = 64;

    /// <summary>Frames one poll of one queue may take (NAPI budget); at most <see cref="RxBatch.MaxFrames"/>.</summary>
    public int Budget { get; init; } = DefaultBudget;

    /// <summary>
    /// Batches one queue may have handed to the stack and not yet had back (see <see cref="RxBatchPool"/>):
    /// when they are all out the queue stops polling until the stack gives one back, so the driver stays at most this
    /// many batches ahead of the stack instead of filling its mailbox (and the pool) without bound.
    /// </summary>
    public int MaxBatchesInFlight { get; init; } = 16;

    /// <summary>
    /// How long a queue sleeps after a poll that did not use its whole budget (the interrupt re-arm); a poll that
    /// did is followed at once by the next.
    /// </summary>
    public TimeSpan IdlePollInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>How long to wait before refilling again after the retry pipeline gave up.</summary>
    public TimeSpan RefillBackoffAfterFailure { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Retries ring refills that failed to map (<see cref="Pool.Dma.DmaMapException"/>) or to get memory
    /// (<see cref="Pool.Memory.MemoryProviderExhaustedException"/>). Null: <see cref="DmaMapRetryPipeline.CreateDefault"/>.
    /// </summary>
    public ResiliencePipeline? DmaMapRetryPipeline { get; init; }

    /// <summary>
    /// The recycle ring (<see cref="Pool.PagePoolOptions.PoolSize"/>) a queue's pool needs so that pages coming back
    /// do not overflow it: room for every page the queue can have out at once, which is its RX ring
    /// (<see cref="RingSize"/>), the batches the stack has not handled yet (<see cref="MaxBatchesInFlight"/> plus the
    /// one being filled, <see cref="Budget"/> frames each) and <paramref name="pagesHeldDownstream"/>, what the
    /// queue's consumers may hold (their sockets' queue capacities and the packets they keep). Rounded up to a power of
    /// two and capped at the kernel's <see cref="Pool.PagePoolOptions.MaxPoolSize"/>.
    /// </summary>
    /// <remarks>
    /// A return that finds the ring full releases its page (unmap, free), and the pool later brings a new one in (map):
    /// with the kernel's default of 1024 against a consumer backlog of thousands, most returns did that, and their
    /// device calls slowed the consumers further, which grew the backlog (the end-to-end benchmark: 62–81% of returns
    /// released with 1024, none with this size). Pages sitting in the ring cost nothing but their memory.
    /// <para>A pool has a recycle ring per returning thread, each of this size, so the size covers the worst case of
    /// one thread returning everything that is out; each ring costs 4 bytes an entry (64 KiB at the cap) per
    /// returning thread.</para>
    /// </remarks>
    /// <param name="pagesHeldDownstream">Pages the consumers fed by this queue may hold at once; 0 when they release at once and queue nothing.</param>
    public int RecommendedPoolSize(long pagesHeldDownstream)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pagesHeldDownstream);
        long pages = (long)RingSize + ((long)(MaxBatchesInFlight + 1) * Budget) + Math.Min(pagesHeldDownstream, Pool.PagePoolOptions.MaxPoolSize);
        return (int)Math.Min(Pool.PagePoolOptions.MaxPoolSize, Math.Max(2, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)pages)));
    }

    /// <summary>Checks the options; the message says which option is wrong and why.</summary>
    public void Validate()
    {
        if (RingSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(RingSize), RingSize, "RingSize must be positive.");
        }

        if (Budget <= 0 || Budget > RxBatch.MaxFrames)
        {
            throw new ArgumentOutOfRangeException(nameof(Budget), Budget, $"Budget must be 1..{RxBatch.MaxFrames}.");
        }

        if (MaxBatchesInFlight <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchesInFlight), MaxBatchesInFlight, "MaxBatchesInFlight must be positive.");
        }

        if (IdlePollInterval <= TimeSpan.Zero || RefillBackoffAfterFailure <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(IdlePollInterval), "Poll and backoff intervals must be positive.");
        }
    }
}
