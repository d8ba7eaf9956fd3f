using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Polly;
using Polly.Retry;

namespace Netmem.Driver;

/// <summary>The default retry policy for ring refills that could not map or allocate a page.</summary>
public static class DmaMapRetryPipeline
{
    /// <summary>
    /// Retries what a refill can recover from (the device refused a mapping, the provider had no page) with
    /// exponential backoff with jitter from 1 ms, 6 retries (≈ 60 ms at worst), then the refill gives up and the
    /// driver tries again after <see cref="DriverOptions.RefillBackoffAfterFailure"/>. Chaos strategies, if any, go
    /// after the retry in a pipeline of the caller's own.
    /// </summary>
    public static ResiliencePipeline CreateDefault(TimeProvider? timeProvider = null)
    {
        var builder = new ResiliencePipelineBuilder();
        if (timeProvider is not null)
        {
            builder.TimeProvider = timeProvider;
        }

        return builder
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<DmaMapException>().Handle<MemoryProviderExhaustedException>(),
                MaxRetryAttempts = 6,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(1),
                UseJitter = true,
            })
            .Build();
    }
}
