using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// The slow-device seam of one device: before each unbind the seed decides whether, for that unbind, the device's
/// unmaps, syncs and domain teardown turn slow. A slow unmap makes destroy's walk outlive its timeout (so the
/// supervisor revokes the pools' access and tears the rest down with the domain); a slow teardown outlives its own
/// timeout. Both are exactly the cases where an <c>Unbound</c> could overtake the device, which the run's "device
/// call after unbind" counter then sees. A driver stuck in the device holds its next reap past the quiesce timeout,
/// so the supervisor must close the receive side under it before destroying the pools; a page unmapped too early
/// shows as a DMA write into an unmapped page when the reap comes back.
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
    private readonly TimeSpan _quiesceTimeout;
    private volatile bool _slowUnmap;
    private volatile bool _slowSync;
    private long _teardownDelayTicks;
    private long _stuckReapTicks;
    private TaskCompletionSource _stuck = NewStuckSignal();

    public SlowDeviceSeam(SeededChaos chaos, FaultStream unbinds, TimeSpan teardownTimeout, TimeSpan quiesceTimeout)
    {
        _chaos = chaos;
        _unbinds = unbinds;
        _teardownTimeout = teardownTimeout;
        _quiesceTimeout = quiesceTimeout;
    }

    /// <summary>
    /// Decides, for the unbind about to start, which of the device's calls turn slow. At the process-exit unbind
    /// (<paramref name="atShutdown"/>) no driver is stuck: the runtime's shutdown waits only as long as an unbind of
    /// prompt device calls takes (<c>DeviceOptions.MaxUnbindDuration</c>), and a stuck call is not prompt.
    /// </summary>
    public async Task DecideForUnbindAsync(bool atShutdown)
    {
        ResiliencePipelineBuilder builder = new ResiliencePipelineBuilder()
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
            }));
        if (!atShutdown)
        {
            builder.AddChaosBehavior(_chaos.Behavior(FaultKind.DriverStuck, (draw, _) =>
            {
                // Past two quiesce timeouts: the supervisor gives up on the driver and closes its receive sides while
                // the reap is still inside the device, and an unbind that waited one more quiesce timeout for the
                // driver to stop and then destroyed the pools would unmap the posted pages before the reap returns.
                Volatile.Write(ref _stuck, NewStuckSignal());
                Interlocked.Exchange(ref _stuckReapTicks, draw.Between(_quiesceTimeout * 2.2, _quiesceTimeout * 3).Ticks);
                return ValueTask.CompletedTask;
            }));
        }

        ResiliencePipeline pipeline = builder.Build();
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

    /// <summary>
    /// Waits (at most <paramref name="patience"/>) until a driver-stuck decision has a reap inside the device, so the
    /// unbind that follows finds the driver stuck rather than racing its next poll; returns at once without one.
    /// </summary>
    public Task WaitForStuckDriverAsync(TimeSpan patience) =>
        Interlocked.Read(ref _stuckReapTicks) == 0 ? Task.CompletedTask : Volatile.Read(ref _stuck).Task.WaitAsync(patience).ContinueWith(static _ => { }, TaskScheduler.Default);

    /// <summary>The device is bound again: its calls are quick again.</summary>
    public void Clear()
    {
        _slowUnmap = false;
        _slowSync = false;
        Interlocked.Exchange(ref _teardownDelayTicks, 0);
        Interlocked.Exchange(ref _stuckReapTicks, 0);
    }

    /// <summary>Before a reap of any of the device's RX queues: the first one after a driver-stuck decision hangs.</summary>
    public void BeforeReap()
    {
        if (Volatile.Read(ref _stuckReapTicks) == 0)
        {
            return;
        }

        long ticks = Interlocked.Exchange(ref _stuckReapTicks, 0);
        if (ticks > 0)
        {
            Volatile.Read(ref _stuck).TrySetResult();
            Thread.Sleep(TimeSpan.FromTicks(ticks));
        }
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

    private static TaskCompletionSource NewStuckSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
