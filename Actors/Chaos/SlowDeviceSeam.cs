using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// The slow-device seam of one device: before each unbind the seed decides whether, for that unbind, the device's
/// unmaps, syncs and domain teardown turn slow. A slow unmap makes destroy's walk outlive its timeout (so the
/// supervisor revokes the pools' access and tears the rest down with the domain); a slow teardown outlives its own
/// timeout. Both are exactly the cases where an <c>Unbound</c> could overtake the device, which the run's "device
/// call after unbind" counter then sees.
/// </summary>
/// <remarks>
/// The slowness blocks the calling thread, as a device that takes its time does; it is cleared when the device is
/// bound again, so it only ever weighs on the unbind it was decided for (and the late returns racing it).
/// </remarks>
internal sealed class SlowDeviceSeam
{
    /// <summary>How long each unmap takes while unmaps are slow.</summary>
    public static readonly TimeSpan UnmapLatency = TimeSpan.FromMilliseconds(2);

    /// <summary>How long each sync takes while syncs are slow.</summary>
    public static readonly TimeSpan SyncLatency = TimeSpan.FromMilliseconds(1);

    private readonly SeededChaos _chaos;
    private readonly FaultStream _unbinds;
    private readonly TimeSpan _teardownTimeout;
    private volatile bool _slowUnmap;
    private volatile bool _slowSync;
    private long _teardownDelayTicks;

    public SlowDeviceSeam(SeededChaos chaos, FaultStream unbinds, TimeSpan teardownTimeout)
    {
        _chaos = chaos;
        _unbinds = unbinds;
        _teardownTimeout = teardownTimeout;
    }

    /// <summary>Decides, for the unbind about to start, which of the device's calls turn slow.</summary>
    public async Task DecideForUnbindAsync()
    {
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddChaosBehavior(_chaos.Behavior(FaultKind.SlowUnmap, (_, _) =>
            {
                _slowUnmap = true;
                return ValueTask.CompletedTask;
            }))
            .AddChaosBehavior(_chaos.Behavior(FaultKind.SlowSync, (_, _) =>
            {
                _slowSync = true;
                return ValueTask.CompletedTask;
            }))
            .AddChaosBehavior(_chaos.Behavior(FaultKind.SlowTeardown, (draw, _) =>
            {
                // Between 1.5 and 3 teardown timeouts: late enough to time out, short enough for the run to go on.
                Interlocked.Exchange(ref _teardownDelayTicks, draw.Between(_teardownTimeout * 1.5, _teardownTimeout * 3).Ticks);
                return ValueTask.CompletedTask;
            }))
            .Build();
        ResilienceContext context = SeededChaos.Enter(_unbinds);
        try
        {
            await pipeline.ExecuteAsync(static _ => ValueTask.CompletedTask, context).ConfigureAwait(false);
        }
        finally
        {
            SeededChaos.Leave(context);
        }
    }

    /// <summary>The device is bound again: its calls are quick again.</summary>
    public void Clear()
    {
        _slowUnmap = false;
        _slowSync = false;
        Interlocked.Exchange(ref _teardownDelayTicks, 0);
    }

    public void BeforeUnmap()
    {
        if (_slowUnmap)
        {
            Thread.Sleep(UnmapLatency);
        }
    }

    public void BeforeSync()
    {
        if (_slowSync)
        {
            Thread.Sleep(SyncLatency);
        }
    }

    public void BeforeTeardown()
    {
        long ticks = Interlocked.Read(ref _teardownDelayTicks);
        if (ticks > 0)
        {
            Thread.Sleep(TimeSpan.FromTicks(ticks));
        }
    }
}
