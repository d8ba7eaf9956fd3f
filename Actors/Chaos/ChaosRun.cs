using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Netmem.Stack.Sockets;
using Netmem.Uring;
using Netmem.Uring.Traffic;
using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// One chaos run: devices (simulated, or the kernel through io_uring) driven by the runtime's driver and stack
/// actors, its own consumer actors as the applications (their faults through their behaviour), seeded faults at every
/// seam, random unbind/rebind cycles, then a full shutdown and the checks that prove no page or mapping was lost,
/// every one through the runtime's public API. Use <see cref="ChaosRunner"/> to run one.
/// </summary>
internal sealed class ChaosRun : IAsyncDisposable
{
    private static readonly TimeSpan UnbindSlot = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private static int s_runs;

    /// <summary>Destroy's timeout in chaos runs: short, so a slow-unmap unbind outlives it and is revoked.</summary>
    private static readonly TimeSpan ChaosDestroyTimeout = TimeSpan.FromMilliseconds(300);

    /// <summary>The teardown's timeout in chaos runs: short, so a slow teardown outlives it.</summary>
    private static readonly TimeSpan ChaosTeardownTimeout = TimeSpan.FromMilliseconds(200);

    /// <summary>The quiesce's timeout in chaos runs: short, so a driver stuck in the device outlives it.</summary>
    private static readonly TimeSpan ChaosQuiesceTimeout = TimeSpan.FromMilliseconds(500);

    private readonly ChaosSettings _settings;
    private readonly ChaosHooks _hooks;
    private readonly SeededChaos _chaos;
    private readonly ActorSystem _system;
    private readonly PagePoolRuntime _runtime;
    private readonly IDeviceLifecycle[] _devices;
    private readonly SlowDeviceSeam[] _slowDevices;
    private readonly IommuModel[] _iommus;
    private readonly UringDevice?[] _uringDevices;
    private readonly LoopbackTraffic? _loopback;
    private Task<UdpTrafficReport>? _traffic;
    private readonly ChaosConsumer[] _consumers;
    private readonly ConcurrentDictionary<string, HostPageProvider> _providers = new();
    private readonly ConsumerTally _consumerTally = new();
    private readonly MisuseTally _misuse = new();
    private readonly LateReturnStorm _storm;
    private readonly PoolCensus _census;
    private readonly StackFrameCounter _frames;
    private readonly List<string> _problems = new();
    private readonly HashSet<(string Device, int Generation)> _unbindsRecorded = new();
    private readonly Stopwatch _clock = new();
    private long _unbinds;
    private long _rebinds;
    private long _inflightAtUnbindSum;
    private long _inflightAtUnbindMax;
    private long _unmappedByDestroy;
    private long _revokedWithDomain;
    private long _phaseTimeouts;
    private long _itemsNotReclaimedAtUnbound;
    private string _phase = "starting";
    private TimeSpan _trafficTime;

    public ChaosRun(ChaosSettings settings, ChaosHooks hooks)
    {
        _settings = settings;
        _hooks = hooks;
        _chaos = new SeededChaos(new FaultDecider(settings.Seed, settings.Rates), new FaultLedger());
        int run = Interlocked.Increment(ref s_runs);
        // Signals are the command's (ChaosStop): with Akka's own hook on, a SIGINT or SIGTERM would also start the
        // coordinated shutdown at once, under a running unbind cycle, instead of after the traffic has stopped.
        _system = ActorSystem.Create($"chaos-{run}", ConfigurationFactory.ParseString(
            "akka { loglevel = OFF, stdout-loglevel = OFF, log-dead-letters = off, log-dead-letters-during-shutdown = off, "
            + "coordinated-shutdown.run-by-clr-shutdown-hook = off }"));
        string[] names = Enumerable.Range(0, settings.Devices).Select(d => $"chaos{run}-dev{d}").ToArray();
        _census = new PoolCensus();
        _slowDevices = new SlowDeviceSeam[names.Length];
        _iommus = new IommuModel[names.Length];
        _uringDevices = new UringDevice?[names.Length];
        _loopback = settings.Device == ChaosDeviceKind.Uring ? new LoopbackTraffic(settings.Consumers) : null;
        DeviceOptions[] devices = names.Select(CreateDeviceOptions).ToArray();
        _storm = new LateReturnStorm(settings.Consumers);
        _consumers = Enumerable.Range(0, settings.Consumers).Select(c => new ChaosConsumer(
            c, ConsumerProfile.ForConsumer(c), _chaos, _consumerTally, _misuse, _storm, _hooks.TapPacket)).ToArray();

        // The applications are the runtime's own consumer actors, opened with it; the chaos decides through their behaviour.
        _runtime = PagePoolRuntime.Start(_system, new PagePoolRuntimeOptions
        {
            Devices = devices,
            Consumers = _consumers.Select((consumer, c) => consumer.Spec(_loopback?.ForConsumer(c) ?? ChaosFlows.ForConsumer(c), settings.SocketQueueCapacity)).ToArray(),
        });
        _devices = devices.Select((options, d) => WrapLifecycle(new SupervisedDevice(_runtime.Devices[options.Name], options, _iommus[d]))).ToArray();
        _frames = new StackFrameCounter(_runtime, _system, devices.Select(d => (d.Name, d.QueueCount)).ToArray(), settings.PhaseTimeout);
    }

    public async Task<ChaosReport> RunAsync(IProgress<ChaosProgress>? progress, CancellationToken cancellationToken)
    {
        _clock.Start();
        for (int d = 0; d < _devices.Length; d++)
        {
            await BindAsync(d).ConfigureAwait(false);
        }

        _phase = "running";
        using var stopUnbinding = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // The real device's wire: one generator for the whole traffic time, across every queue of every device.
        _traffic = _loopback?.RunAsync(_settings.FramesPerSecondPerQueue * _settings.QueuesPerDevice, _settings.Duration, stopUnbinding.Token);
        Task unbinder = UnbindAtRandomMomentsAsync(stopUnbinding.Token);
        await WatchAsync(progress, _settings.Duration, cancellationToken).ConfigureAwait(false);

        _phase = "shutting down";
        _trafficTime = _clock.Elapsed;
        await stopUnbinding.CancelAsync().ConfigureAwait(false);
        await unbinder.ConfigureAwait(false);
        await StopTrafficAsync().ConfigureAwait(false);
        await ShutDownAsync().ConfigureAwait(false);

        // The actor system is gone: every consumer actor stopped, closing its socket and giving back what it held;
        // only what a storm still holds back is out.
        _phase = "draining";
        await _storm.FireAsync().ConfigureAwait(false);
        _phase = "checking";
        await WaitForPoolsReleasedAsync().ConfigureAwait(false);
        progress?.Report(Snapshot(_settings.Duration));
        return BuildReport();
    }

    public async ValueTask DisposeAsync()
    {
        _loopback?.Dispose();
        if (!_system.WhenTerminated.IsCompleted)
        {
            await _system.Terminate().WaitAsync(_settings.PhaseTimeout).ConfigureAwait(false);
        }
    }

    private IDeviceLifecycle WrapLifecycle(IDeviceLifecycle lifecycle) => _hooks.WrapLifecycle?.Invoke(lifecycle) ?? lifecycle;

    /// <summary>
    /// One device whose pools map through the DMA seam and whose teardown goes through the slow-device seam; the
    /// phase timeouts are short, so a slow unbind outlives them within a run.
    /// </summary>
    private DeviceOptions CreateDeviceOptions(string name, int index)
    {
        var iommu = new IommuModel(name);
        var slow = new SlowDeviceSeam(_chaos, _chaos.Ledger.Stream($"dev{index}/slow-device"), ChaosTeardownTimeout, ChaosQuiesceTimeout);
        _slowDevices[index] = slow;
        _iommus[index] = iommu;
        int[] poolGenerations = new int[_settings.QueuesPerDevice];
        INetDevice device = _settings.Device == ChaosDeviceKind.Uring
            ? CreateUringDevice(name, index, iommu, slow)
            : CreateSimulatedDevice(name, index, iommu, slow);
        return new DeviceOptions
        {
            Device = device,
            QueueCount = _settings.QueuesPerDevice,
            PoolOptions = queue => CreatePoolOptions(index, name, queue, Interlocked.Increment(ref poolGenerations[queue])),
            MaxDriverRestarts = 1000,
            BindOnStart = false,
            QuiesceTimeout = ChaosQuiesceTimeout,
            DestroyTimeout = ChaosDestroyTimeout,
            TeardownTimeout = ChaosTeardownTimeout,
        };
    }

    /// <summary>
    /// The kernel through io_uring, capturing <c>lo</c>, behind the strict model's bookkeeping (the shadow
    /// <paramref name="iommu"/>) and the same seams as the simulated device.
    /// </summary>
    private CheckedRealDevice CreateUringDevice(string name, int index, IommuModel iommu, SlowDeviceSeam slow)
    {
        // The devices bind at once and share the user's locked-memory limit (when the process is charged for it).
        var uring = new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("lo"), Name = name, LockedMemoryShare = 1.0 / _settings.Devices });
        _uringDevices[index] = uring;
        DriverFaultSeam[] crashes = Enumerable.Range(0, _settings.QueuesPerDevice)
            .Select(queue => new DriverFaultSeam(_chaos, _chaos.Ledger.Stream($"dev{index}/rx{queue}/rx")))
            .ToArray();
        return new CheckedRealDevice(
            uring,
            iommu,
            (_, bookkept) => new ChaosDmaDevice(_hooks.WrapDevice?.Invoke(bookkept, iommu) ?? bookkept, _chaos, _chaos.Ledger.Stream($"dev{index}/map"), slow),
            queue => crashes[queue],
            slow.BeforeTeardown,
            receive => new StuckDriverRxQueue(receive, slow));
    }

    private SimulatedDevice CreateSimulatedDevice(string name, int index, IommuModel iommu, SlowDeviceSeam slow) =>
        new SimulatedDevice(new SimulatedDeviceOptions
        {
            Name = name,
            Iommu = iommu,
            TrafficSourceFactory = CreateTrafficSourceFactory(index),
            DmaDeviceDecorator = (_, model) =>
                new ChaosDmaDevice(_hooks.WrapDevice?.Invoke(model, iommu) ?? model, _chaos, _chaos.Ledger.Stream($"dev{index}/map"), slow),
            RxQueueDecorator = (_, receive) => new StuckDriverRxQueue(receive, slow),
            BeforeTeardown = _ => slow.BeforeTeardown(),
        });

    /// <summary>Stops the loopback generator (io_uring runs) and notes if it could not send.</summary>
    private async Task StopTrafficAsync()
    {
        if (_traffic is null)
        {
            return;
        }

        try
        {
            UdpTrafficReport sent = await _traffic.ConfigureAwait(false);
            if (sent.Sent == 0)
            {
                AddProblem($"the loopback traffic generator sent nothing ({sent.SendErrors} send errors).");
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception exception) when (exception is SocketException or ArgumentException)
        {
            AddProblem($"the loopback traffic generator failed: {exception.Message}");
        }
    }

    /// <summary>
    /// A pool of its own memory provider, whose allocations go through the allocation-failure seam. The pool owns the
    /// provider (it frees its memory once released, so a long run with many rebinds does not keep every bind's
    /// memory); the run keeps a reference only as the accounting audit's witness.
    /// </summary>
    private PagePoolOptions CreatePoolOptions(int device, string name, int queue, int generation)
    {
        // Poisoned: a page written to after it went back to the provider is a violation ("device wrote after unmap").
        var provider = new HostPageProvider { PoisonFreedPages = true, OnPoisonViolation = v => AddProblem(v.ToString()) };
        new AllocationFaultSeam(_chaos, _chaos.Ledger.Stream($"dev{device}/rx{queue}/bind{generation}/alloc")).Attach(provider);
        string poolName = $"{name}-rx{queue}-bind{generation}";
        _providers[poolName] = provider;
        return new PagePoolOptions { MemoryProvider = provider, OwnsMemoryProvider = true, Name = poolName };
    }

    /// <summary>Synthetic traffic on every queue, through the driver-crash seam.</summary>
    private Func<int, ITrafficSource> CreateTrafficSourceFactory(int device)
    {
        IReadOnlyList<Stack.Parsing.FlowKey> flows = ChaosFlows.OnTheWire(_settings.Consumers);
        return queue => new ChaosTrafficSource(
            new SyntheticTrafficSource(new SyntheticTrafficOptions
            {
                Flows = flows,
                FramesPerSecond = _settings.FramesPerSecondPerQueue,
                Seed = unchecked((int)_chaos.Decider.Hash(FaultKind.DriverCrash, device, queue)),
            }),
            new DriverFaultSeam(_chaos, _chaos.Ledger.Stream($"dev{device}/rx{queue}/rx")));
    }

    private async Task<bool> BindAsync(int device)
    {
        _slowDevices[device].Clear();
        try
        {
            await _devices[device].BindAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            AddProblem($"{_devices[device].Device}: bind failed: {exception.Message}");
            return false;
        }

        try
        {
            await _census.ObserveAsync(_runtime, _devices[device].Device, _settings.PhaseTimeout).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is AskTimeoutException or TaskCanceledException)
        {
            AddProblem($"{_devices[device].Device}: its pools could not be listed after the bind: {exception.Message}");
        }

        return true;
    }

    /// <summary>
    /// Every slot, the seed decides (Polly chaos behaviour) whether to unbind a device now; if so it picks the
    /// device and the moment within the slot, and rebinds after a drawn pause. Cycles run one at a time.
    /// </summary>
    private async Task UnbindAtRandomMomentsAsync(CancellationToken cancellationToken)
    {
        FaultStream slots = _chaos.Ledger.Stream("unbinder");
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddChaosBehavior(_chaos.Behavior(FaultKind.UnbindUnderLoad, (draw, _) => new ValueTask(CycleAsync(draw))))
            .Build();
        try
        {
            while (true)
            {
                await Task.Delay(UnbindSlot, cancellationToken).ConfigureAwait(false);
                ResilienceContext context = SeededChaos.Enter(slots);
                try
                {
                    await pipeline.ExecuteAsync(static _ => ValueTask.CompletedTask, context).ConfigureAwait(false);
                }
                finally
                {
                    SeededChaos.Leave(context);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task CycleAsync(FaultDraw draw)
    {
        int device = draw.Choose(_devices.Length);
        await Task.Delay(draw.Between(TimeSpan.Zero, UnbindSlot)).ConfigureAwait(false);
        await UnbindAsync(device).ConfigureAwait(false);
        await Task.Delay(draw.Between(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(200))).ConfigureAwait(false);
        if (await BindAsync(device).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _rebinds);
        }
    }

    /// <summary>
    /// Unbinds one device, possibly under a late-return storm: consumers hold back their returns for a moment, and
    /// all of them are let go as the device's pools start to be destroyed. When the <c>Unbound</c> arrives, the
    /// device's pages are audited at once.
    /// </summary>
    private async Task UnbindAsync(int device)
    {
        IDeviceLifecycle lifecycle = _devices[device];
        await _slowDevices[device].DecideForUnbindAsync(atShutdown: false).ConfigureAwait(false);
        await _slowDevices[device].WaitForStuckDriverAsync(ChaosQuiesceTimeout).ConfigureAwait(false);
        Task storm = await StartStormIfDecidedAsync(_chaos.Ledger.Stream($"dev{device}/unbind-storms"), _census.PoolsOf(lifecycle.Device)).ConfigureAwait(false);
        UnbindReport report = await lifecycle.UnbindAsync(CancellationToken.None).ConfigureAwait(false);
        RecordUnbound(report, _census.PoolsOf(lifecycle.Device));
        await storm.ConfigureAwait(false);
    }

    /// <summary>
    /// The process-exit path: CoordinatedShutdown runs the runtime's task that unbinds every device at once (under a
    /// storm if the seed says so); then every device's <c>Unbound</c> is audited and the actor system is gone.
    /// </summary>
    private async Task ShutDownAsync()
    {
        foreach (SlowDeviceSeam slow in _slowDevices)
        {
            await slow.DecideForUnbindAsync(atShutdown: true).ConfigureAwait(false);
        }

        Task storm = await StartStormIfDecidedAsync(_chaos.Ledger.Stream("shutdown-storms"), _census.Pools.ToArray()).ConfigureAwait(false);
        try
        {
            await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(_settings.PhaseTimeout * 4).ConfigureAwait(false);
            IReadOnlyList<Unbound> unbound = await _runtime.ShutdownUnbinds.WaitAsync(_settings.PhaseTimeout).ConfigureAwait(false);
            foreach (Unbound reply in unbound)
            {
                RecordUnbound(reply.Report, _census.PoolsOf(reply.Report.Device));
            }
        }
        catch (Exception exception)
        {
            // No Unbound to go by: audit every device's pages as they are now.
            AddProblem($"the shutdown did not report every device unbound: {exception.Message}");
            foreach (IDeviceLifecycle device in _devices)
            {
                Interlocked.Add(ref _itemsNotReclaimedAtUnbound, UnboundAudit.CountItemsNotReclaimed(_census.PoolsOf(device.Device)));
            }
        }

        await storm.ConfigureAwait(false);
    }

    /// <summary>Decides (Polly chaos behaviour) whether this unbind comes with a late-return storm, and if so arms it.</summary>
    private async Task<Task> StartStormIfDecidedAsync(FaultStream storms, IReadOnlyCollection<PagePool> pools)
    {
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder()
            .AddChaosBehavior(_chaos.Behavior(FaultKind.LateReturnStorm, (draw, _) => new ValueTask(GatherStormAsync(draw))))
            .Build();
        ResilienceContext context = SeededChaos.Enter(storms);
        try
        {
            await pipeline.ExecuteAsync(static _ => ValueTask.CompletedTask, context).ConfigureAwait(false);
        }
        finally
        {
            SeededChaos.Leave(context);
        }

        PagePool[] active = pools.Where(p => p.State == PagePoolState.Active).ToArray();
        return _storm.IsArmed ? FireStormWhenDestroyStartsAsync(active) : Task.CompletedTask;
    }

    private void RecordUnbound(UnbindReport report, IReadOnlyList<PagePool> devicePools)
    {
        Interlocked.Add(ref _itemsNotReclaimedAtUnbound, UnboundAudit.CountItemsNotReclaimed(devicePools));
        lock (_unbindsRecorded)
        {
            // An unbind of a device that is not bound is answered with the last Unbound again (or with an empty
            // report if it never was bound): audit it, but count each unbind once.
            if (report.Generation == 0 || !_unbindsRecorded.Add((report.Device, report.Generation)))
            {
                return;
            }
        }

        Interlocked.Increment(ref _unbinds);
        Interlocked.Add(ref _inflightAtUnbindSum, report.InflightAtUnbind);
        Interlocked.Add(ref _unmappedByDestroy, report.UnmappedByDestroy);
        Interlocked.Add(ref _revokedWithDomain, report.RevokedWithDomain);
        Interlocked.Add(ref _phaseTimeouts, report.TimedOutPhases.Count);
        long max;
        while (report.InflightAtUnbind > (max = Interlocked.Read(ref _inflightAtUnbindMax))
            && Interlocked.CompareExchange(ref _inflightAtUnbindMax, report.InflightAtUnbind, max) != max)
        {
        }

        // A phase that times out escalates (the slow-device faults make them) and is counted; one that fails is a problem.
        foreach (UnbindPhaseResult phase in report.Phases.Where(p => p.Outcome is UnbindPhaseOutcome.Failed))
        {
            AddProblem($"{report.Device} unbind of generation {report.Generation}: {phase.Phase} {phase.Outcome}: {phase.Detail}");
        }
    }

    /// <summary>
    /// Checks the poison of every free page still in a provider (a provider already disposed checked its pages then),
    /// and returns the writes found over the whole run.
    /// </summary>
    private long DeviceWritesAfterUnmap() => _providers.Values.Sum(provider =>
    {
        provider.VerifyFreePages();
        return provider.PoisonViolations;
    });

    private void AddProblem(string problem)
    {
        lock (_problems)
        {
            _problems.Add(problem);
        }
    }

    private async Task GatherStormAsync(FaultDraw draw)
    {
        _storm.Arm();
        await Task.Delay(draw.Between(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300))).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits, spinning, for the first of the pools to leave Active (destroy has begun), then fires the storm; with no
    /// active pool to watch it fires at once.
    /// </summary>
    private Task FireStormWhenDestroyStartsAsync(IReadOnlyList<PagePool> pools) => Task.Run(async () =>
    {
        long deadline = Environment.TickCount64 + (long)_settings.PhaseTimeout.TotalMilliseconds;
        var spinner = default(SpinWait);
        while (pools.Count > 0 && pools.All(p => p.State == PagePoolState.Active) && Environment.TickCount64 < deadline)
        {
            spinner.SpinOnce();
        }

        await _storm.FireAsync().ConfigureAwait(false);
    });

    private async Task WatchAsync(IProgress<ChaosProgress>? progress, TimeSpan duration, CancellationToken cancellationToken)
    {
        using var ticks = new PeriodicTimer(ProgressInterval);
        long lastReceived = 0;
        TimeSpan lastAt = TimeSpan.Zero;
        try
        {
            while (_clock.Elapsed < duration && await ticks.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await RefreshFrameCountAsync().ConfigureAwait(false);
                TimeSpan now = _clock.Elapsed;
                long received = _frames.Received;
                double rate = (received - lastReceived) / Math.Max(1e-3, (now - lastAt).TotalSeconds);
                (lastReceived, lastAt) = (received, now);
                progress?.Report(Snapshot(duration) with { PacketsPerSecond = rate });
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            AddProblem($"the run was cancelled after {_clock.Elapsed.TotalSeconds:F1} s.");
        }
    }

    private ChaosProgress Snapshot(TimeSpan duration) => new(
        _clock.Elapsed,
        duration,
        0,
        _frames.Received,
        _census.Pools.Where(p => p.State != PagePoolState.Released).Sum(p => p.Inflight),
        Interlocked.Read(ref _unbinds),
        _chaos.Ledger.Total,
        _devices.Sum(d => (long)d.Iommu.ViolationCount) + Interlocked.Read(ref _itemsNotReclaimedAtUnbound) + _misuse.NotRejected,
        _phase);

    /// <summary>Asks the stack for its frame count for the progress line; a late answer only delays the figure.</summary>
    private async Task RefreshFrameCountAsync()
    {
        try
        {
            await _frames.RefreshAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is AskTimeoutException or TaskCanceledException)
        {
        }
    }

    private async Task WaitForPoolsReleasedAsync()
    {
        await Task.WhenAll(_census.Pools.Select(pool => pool.WaitForReleaseAsync(_settings.PhaseTimeout))).ConfigureAwait(false);
    }

    private ChaosReport BuildReport()
    {
        IReadOnlyCollection<PagePool> pools = _census.Pools;
        long IommuCount(IommuViolationKind kind) => _devices.Sum(d => (long)d.Iommu.CountOf(kind));
        SocketConsumer[] sockets = _consumers.SelectMany(c => c.Sockets).ToArray();
        UringCounters? uring = _settings.Device == ChaosDeviceKind.Uring
            ? _uringDevices.Aggregate(default(UringCounters), (sum, d) => sum + (d?.GetCounters() ?? default))
            : null;
        if (uring is { FramesReceived: 0 } counters)
        {
            AddProblem($"the io_uring devices received no frame: {counters.ReceiveArms} receive arms, {counters.PagesPosted} pages posted, {counters.Maps} maps, {counters.EnobufsRearms} rearms after running out of pages.");
        }

        var dropped = new Dictionary<string, long>
        {
            ["no socket for the flow"] = _runtime.Demultiplexer.DroppedNoSocket,
            ["not parsed"] = _runtime.Demultiplexer.DroppedNotParsed,
            ["socket queue full"] = sockets.Sum(s => s.DroppedQueueFull),
            ["socket closed"] = sockets.Sum(s => s.DroppedClosed),
            ["drained when the socket closed"] = sockets.Sum(s => s.DrainedAtClose),
        };
        if (_frames.Failure is { } failure)
        {
            AddProblem($"the stack's last frame count could not be taken at shutdown: {failure}");
        }

        var packets = new PacketCounts(_frames.Received, _consumerTally.Read, dropped);

        var violations = new ChaosViolations(
            DoubleUnmap: IommuCount(IommuViolationKind.DoubleUnmap),
            DeviceCallAfterUnbind: IommuCount(IommuViolationKind.CallAfterUnbind),
            DmaToUnmappedPage: IommuCount(IommuViolationKind.DmaToUnmappedAddress),
            SyncOfUnmappedPage: IommuCount(IommuViolationKind.SyncOfUnmappedAddress),
            UnmapOfUnknownAddress: IommuCount(IommuViolationKind.UnmapOfUnknownAddress),
            UnmapLengthMismatch: IommuCount(IommuViolationKind.UnmapLengthMismatch),
            UnmapDirectionMismatch: IommuCount(IommuViolationKind.UnmapDirectionMismatch),
            MappingLeakedAtUnbind: IommuCount(IommuViolationKind.MappingLeakedAtUnbind),
            PageLeakedAtEndOfRun: pools.Where(p => p.State != PagePoolState.Released).Sum(p => Math.Max(0, p.Inflight)),
            AccountingMismatch: AccountingAudit.CountMismatchedPages(pools.Where(p => _providers.ContainsKey(p.Name)).Select(p => (p, (SegmentedPageProvider)_providers[p.Name]))),
            UnboundWithItemsNotReclaimed: Interlocked.Read(ref _itemsNotReclaimedAtUnbound),
            MisuseNotRejected: _misuse.NotRejected,
            PacketsUnaccounted: Math.Abs(packets.Unaccounted),
            KernelErrors: uring?.KernelErrors ?? 0,
            DeviceWroteAfterUnmap: DeviceWritesAfterUnmap());

        return new ChaosReport
        {
            Seed = _settings.Seed,
            DurationSeconds = Math.Round(_trafficTime.TotalSeconds, 3),
            WallSeconds = Math.Round(_clock.Elapsed.TotalSeconds, 3),
            Device = _settings.Device,
            Devices = _settings.Devices,
            QueuesPerDevice = _settings.QueuesPerDevice,
            Consumers = _settings.Consumers,
            FaultRate = _settings.FaultRate,
            EnabledFaults = _settings.EnabledFaults.Order().ToArray(),
            Packets = packets,
            KernelPacketsReceived = uring?.FramesReceived,
            Unbinds = Interlocked.Read(ref _unbinds),
            Rebinds = Interlocked.Read(ref _rebinds),
            InflightAtUnbindSum = Interlocked.Read(ref _inflightAtUnbindSum),
            InflightAtUnbindMax = Interlocked.Read(ref _inflightAtUnbindMax),
            PagesUnmappedByDestroy = Interlocked.Read(ref _unmappedByDestroy),
            PagesRevokedWithDomain = Interlocked.Read(ref _revokedWithDomain),
            PhaseTimeouts = Interlocked.Read(ref _phaseTimeouts),
            LateReturns = pools.Sum(p => p.GetStats().LateReturns),
            ConsumerCrashes = _consumerTally.Crashes,
            StormReturns = _storm.StormReturns,
            FaultsInjected = _chaos.Ledger.CountsByKind(),
            MisuseRejected = _misuse.RejectedByKind(),
            Violations = violations,
            Problems = _problems.ToArray(),
            FaultLedger = _chaos.Ledger.Snapshot(),
            OperationsByStream = _chaos.Ledger.EvaluatedByStream(),
        };
    }
}
