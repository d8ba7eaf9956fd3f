using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netmem.Actors.Pools;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Stack.Actors;

namespace Netmem.Actors.Devices;

/// <summary>
/// One device's supervisor: it binds the device (IOMMU domain, one pool per RX queue, a driver) and runs the unbind
/// protocol: driver quiesce → every pool destroyed → IOMMU domain torn down → <see cref="Unbound"/>.
/// </summary>
/// <remarks>
/// <para>The guarantee: no <see cref="Unbound"/> is sent before the pools are destroyed and the domain is torn
/// down, i.e. before every page the device's pools lent is either back or unmapped. Pages still held by sockets
/// come back later as late returns and make no device call.</para>
/// <para>Each phase has a timeout; a phase that times out or fails is reported and the unbind goes on, so an unbind
/// always ends. Requests that arrive during an unbind, and after it until the next bind, all get the same
/// <see cref="Unbound"/>. A <see cref="Bind"/> during an unbind waits for it.</para>
/// <para>Driver crashes: while bound the driver is restarted (its <c>PostStop</c> returns its pages; the new
/// instance refills from the same pools), up to <see cref="DeviceOptions.MaxDriverRestarts"/>; during an unbind a
/// crashing driver is stopped instead, which ends the quiesce phase with its pages returned.</para>
/// </remarks>
public sealed class DeviceSupervisor : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private const string PhaseTimer = "phase";
    private const string StackTimer = "stack";
    private static readonly TimeSpan StackRetryInterval = TimeSpan.FromSeconds(1);

    private readonly DeviceOptions _options;
    private readonly IActorRef _stack;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IReadOnlyList<IActorRef> _stackQueues = [];
    private DeviceState _state = DeviceState.Starting;
    private int _generation;
    private int _violationsAtBind;
    private PagePool[] _pools = [];
    private IActorRef[] _poolActors = [];
    private IActorRef? _driver;
    private Bound? _bound;
    private Unbound? _lastUnbound;
    private UnbindRun? _unbind;
    private long _unbindCount;

    public DeviceSupervisor(DeviceOptions options, IActorRef stack)
    {
        options.Validate();
        _options = options;
        _stack = stack;
        Starting();
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public IStash Stash { get; set; } = null!;

    /// <param name="stack">The <see cref="NetworkStackActor"/> (or anything that answers <see cref="OpenRxQueues"/>).</param>
    public static Props Props(DeviceOptions options, IActorRef stack) =>
        Akka.Actor.Props.Create(() => new DeviceSupervisor(options, stack));

    protected override void PreStart()
    {
        _stack.Tell(new OpenRxQueues(_options.Name, _options.QueueCount));
        Timers.StartPeriodicTimer(StackTimer, StackQueuesRetry.Instance, StackRetryInterval);
    }

    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(_options.MaxDriverRestarts, _options.DriverRestartWindow, exception =>
        {
            // Only the driver can fail here: pool actors answer failures instead of throwing.
            if (_state == DeviceState.Unbinding || exception is ActorInitializationException)
            {
                return Directive.Stop;
            }

            _log.Warning("{0}: driver crashed ({1}); restarting it, its pages were returned", _options.Name, exception.Message);
            return Directive.Restart;
        });

    private void Starting()
    {
        _state = DeviceState.Starting;
        Receive<RxQueuesOpened>(opened =>
        {
            Timers.Cancel(StackTimer);
            _stackQueues = opened.Queues;
            if (_options.BindOnStart)
            {
                BindDevice(null);
            }
            else
            {
                BecomeUnbound();
            }

            Stash.UnstashAll();
        });
        Receive<StackQueuesRetry>(_ => _stack.Tell(new OpenRxQueues(_options.Name, _options.QueueCount)));
        Receive<GetDeviceStatus>(_ => Sender.Tell(CurrentStatus()));
        ReceiveAny(_ => Stash.Stash());
    }

    private void BecomeUnbound()
    {
        _state = DeviceState.Unbound;
        Become(() =>
        {
            Receive<Bind>(_ => BindDevice(Sender));
            Receive<Unbind>(_ => Sender.Tell(_lastUnbound ?? new Unbound(UnbindReport.NothingBound(_options.Name))));
            Receive<GetDeviceStatus>(_ => Sender.Tell(CurrentStatus()));
            IgnoreStaleMessages();
        });
    }

    private void BindDevice(IActorRef? requester)
    {
        try
        {
            CreatePoolsAndDriver();
        }
        catch (Exception exception)
        {
            _log.Error(exception, "{0}: bind failed", _options.Name);
            requester?.Tell(new Status.Failure(exception));
            DestroyPartialBind();
            BecomeUnbound();
            return;
        }

        requester?.Tell(_bound);
        _state = DeviceState.Bound;
        Become(() =>
        {
            Receive<Bind>(_ => Sender.Tell(_bound));
            Receive<Unbind>(_ => StartUnbind());
            Receive<GetDeviceStatus>(_ => Sender.Tell(CurrentStatus()));
            Receive<Terminated>(t => t.ActorRef.Equals(_driver), _ =>
            {
                _log.Error("{0}: the driver stopped for good (too many crashes); the device receives nothing until it is unbound", _options.Name);
                _driver = null;
            });
            IgnoreStaleMessages();
        });
    }

    private void CreatePoolsAndDriver()
    {
        _generation++;
        if (!_options.Iommu.IsBound)
        {
            _options.Iommu.Bind();
        }

        _violationsAtBind = _options.Iommu.ViolationCount;
        var pools = new List<PagePool>();
        var actors = new List<IActorRef>();
        _pools = [];
        _poolActors = [];
        try
        {
            for (int queue = 0; queue < _options.QueueCount; queue++)
            {
                PagePoolOptions poolOptions = _options.PoolOptions(queue);
                poolOptions = poolOptions with
                {
                    Device = _options.PoolDevice ?? _options.Iommu,
                    QueueIndex = queue,
                    Name = poolOptions.Name ?? $"{_options.Name}-rx{queue}",
                };
                (IActorRef actor, PagePool pool) = PoolActor.Create(Context, poolOptions, queue, $"pool-g{_generation}-rx{queue}");
                actors.Add(actor);
                pools.Add(pool);
            }
        }
        finally
        {
            _pools = pools.ToArray();
            _poolActors = actors.ToArray();
        }

        var setup = new DriverSetup(_options.Name, _options.Iommu, _pools, _stackQueues, _options.Driver);
        Props driverProps = _options.DriverProps?.Invoke(setup) ?? DriverActor.Props(setup);
        _driver = Context.Watch(Context.ActorOf(driverProps, $"driver-g{_generation}"));
        _bound = new Bound(_options.Name, _generation, _pools.Select(p => p.GetInfo()).ToArray());
    }

    /// <summary>A bind that failed half-way: destroy what was created (nothing was lent), tear the domain down.</summary>
    private void DestroyPartialBind()
    {
        if (_driver is not null)
        {
            Context.Stop(_driver);
            _driver = null;
        }

        foreach (PagePool pool in _pools)
        {
            pool.Destroy();
        }

        foreach (IActorRef actor in _poolActors)
        {
            Context.Stop(actor);
        }

        _pools = [];
        _poolActors = [];
        _options.Iommu.Unbind();
    }

    private void StartUnbind()
    {
        _state = DeviceState.Unbinding;
        _unbind = new UnbindRun(++_unbindCount);
        _unbind.Waiters.Add(Sender);
        Become(() =>
        {
            Receive<Unbind>(_ => _unbind!.Waiters.Add(Sender));
            Receive<Bind>(_ => Stash.Stash());
            Receive<GetDeviceStatus>(_ => Sender.Tell(CurrentStatus()));
            Receive<Quiesced>(_ => _unbind!.Phase == UnbindPhase.Quiesce && !_unbind.AwaitingDriverStop && Sender.Equals(_driver), OnQuiesced);
            Receive<Terminated>(t => t.ActorRef.Equals(_driver), _ => OnDriverStopped());
            Receive<PoolDestroyed>(_ => _unbind!.Phase == UnbindPhase.DestroyPools && _unbind.PoolsToAnswer.Contains(Sender), OnPoolDestroyed);
            Receive<Status.Failure>(_ => _unbind!.Phase == UnbindPhase.DestroyPools && _unbind.PoolsToAnswer.Contains(Sender), OnPoolDestroyFailed);
            Receive<IommuTornDown>(t => _unbind!.Phase == UnbindPhase.TeardownIommu && t.UnbindId == _unbind.Id, OnIommuTornDown);
            Receive<PhaseTimedOut>(t => t.UnbindId == _unbind!.Id && t.Phase == _unbind.Phase && !_unbind.AwaitingDriverStop, OnPhaseTimedOut);
            Receive<DriverStopTimedOut>(t => t.UnbindId == _unbind!.Id && _unbind.AwaitingDriverStop, _ =>
            {
                _log.Error("{0}: the driver did not stop after its quiesce timed out; destroying the pools anyway", _options.Name);
                _driver = null;
                BeginDestroyPools();
            });
            IgnoreStaleMessages();
        });

        _unbind.Begin(UnbindPhase.Quiesce);
        if (_driver is null)
        {
            _unbind.End(UnbindPhaseOutcome.DriverStopped, "the driver had already stopped; its pages were returned when it stopped");
            BeginDestroyPools();
            return;
        }

        _driver.Tell(Quiesce.Instance);
        StartPhaseTimer(_options.QuiesceTimeout);
    }

    private void OnQuiesced(Quiesced quiesced)
    {
        UnbindRun run = _unbind!;
        run.RingPagesReturned = quiesced.RingPagesReturned;
        run.End(UnbindPhaseOutcome.Completed, null);

        // Quiesced means the driver will never touch its pools again, so destroy need not wait for it to stop.
        Context.Unwatch(_driver!);
        Context.Stop(_driver!);
        _driver = null;
        BeginDestroyPools();
    }

    private void OnDriverStopped()
    {
        UnbindRun run = _unbind!;
        _driver = null;
        if (run.AwaitingDriverStop)
        {
            run.AwaitingDriverStop = false;
            Timers.Cancel(PhaseTimer);
            BeginDestroyPools();
            return;
        }

        if (run.Phase == UnbindPhase.Quiesce)
        {
            run.End(UnbindPhaseOutcome.DriverStopped, "the driver stopped (crashed) before acknowledging; stopping returned its ring pages");
            BeginDestroyPools();
        }
    }

    private void BeginDestroyPools()
    {
        UnbindRun run = _unbind!;
        run.Begin(UnbindPhase.DestroyPools);
        foreach (IActorRef pool in _poolActors)
        {
            run.PoolsToAnswer.Add(pool);
            pool.Tell(DestroyPool.Instance);
        }

        if (run.PoolsToAnswer.Count == 0)
        {
            run.End(UnbindPhaseOutcome.Completed, null);
            BeginTeardown();
            return;
        }

        StartPhaseTimer(_options.DestroyTimeout);
    }

    private void OnPoolDestroyed(PoolDestroyed destroyed)
    {
        UnbindRun run = _unbind!;
        run.PoolsToAnswer.Remove(Sender);
        run.DestroyReports[destroyed.QueueIndex] = destroyed.Report;
        EndDestroyPoolsIfAnswered();
    }

    private void OnPoolDestroyFailed(Status.Failure failure)
    {
        UnbindRun run = _unbind!;
        run.PoolsToAnswer.Remove(Sender);
        run.Failures.Add($"{Sender.Path.Name}: {failure.Cause.Message}");
        EndDestroyPoolsIfAnswered();
    }

    private void EndDestroyPoolsIfAnswered()
    {
        UnbindRun run = _unbind!;
        if (run.PoolsToAnswer.Count > 0)
        {
            return;
        }

        Timers.Cancel(PhaseTimer);
        if (run.Failures.Count > 0)
        {
            run.End(UnbindPhaseOutcome.Failed, string.Join("; ", run.Failures));
        }
        else
        {
            run.End(UnbindPhaseOutcome.Completed, null);
        }

        BeginTeardown();
    }

    private void BeginTeardown()
    {
        UnbindRun run = _unbind!;
        run.Begin(UnbindPhase.TeardownIommu);
        long id = run.Id;
        var iommu = _options.Iommu;
        Task.Run(() => iommu.Unbind()).PipeTo(
            Self,
            success: leaked => new IommuTornDown(id, leaked, null),
            failure: exception => new IommuTornDown(id, 0, exception));
        StartPhaseTimer(_options.TeardownTimeout);
    }

    private void OnIommuTornDown(IommuTornDown tornDown)
    {
        Timers.Cancel(PhaseTimer);
        _unbind!.LeakedMappings = tornDown.LeakedMappings;
        if (tornDown.Failure is not null)
        {
            _unbind.End(UnbindPhaseOutcome.Failed, tornDown.Failure.Message);
        }
        else
        {
            _unbind.End(UnbindPhaseOutcome.Completed, tornDown.LeakedMappings == 0 ? null : $"{tornDown.LeakedMappings} mappings were still live");
        }

        CompleteUnbind();
    }

    private void OnPhaseTimedOut(PhaseTimedOut timedOut)
    {
        UnbindRun run = _unbind!;
        switch (timedOut.Phase)
        {
            case UnbindPhase.Quiesce:
                run.End(UnbindPhaseOutcome.TimedOut, $"the driver did not acknowledge within {_options.QuiesceTimeout}; it was stopped");
                run.AwaitingDriverStop = true;
                Context.Stop(_driver!);
                Timers.StartSingleTimer(PhaseTimer, new DriverStopTimedOut(run.Id), _options.QuiesceTimeout);
                break;
            case UnbindPhase.DestroyPools:
                run.End(UnbindPhaseOutcome.TimedOut, $"{run.PoolsToAnswer.Count} pool(s) did not answer within {_options.DestroyTimeout}: "
                    + string.Join(", ", run.PoolsToAnswer.Select(p => p.Path.Name)));
                BeginTeardown();
                break;
            case UnbindPhase.TeardownIommu:
                run.End(UnbindPhaseOutcome.TimedOut, $"the IOMMU teardown did not finish within {_options.TeardownTimeout}");
                CompleteUnbind();
                break;
        }
    }

    private void CompleteUnbind()
    {
        UnbindRun run = _unbind!;
        PagePoolDestroyReport[] reports = run.DestroyReports.Values.ToArray();
        var report = new UnbindReport(
            _options.Name,
            _generation,
            reports,
            run.RingPagesReturned,
            reports.Sum(r => r.InflightAtDestroy),
            reports.Sum(r => r.UnmappedByDestroy),
            reports.Sum(r => r.HeldAtReport),
            run.LeakedMappings,
            _options.Iommu.ViolationCount - _violationsAtBind,
            run.Results.ToArray(),
            run.StartedAt,
            Stopwatch.GetElapsedTime(run.Started));
        _lastUnbound = new Unbound(report);
        ActorsMetrics.RecordUnbind(report);
        foreach (IActorRef waiter in run.Waiters)
        {
            waiter.Tell(_lastUnbound);
        }

        _unbind = null;
        _pools = [];
        _poolActors = [];
        _bound = null;
        BecomeUnbound();
        Stash.UnstashAll();
    }

    private void StartPhaseTimer(TimeSpan timeout) =>
        Timers.StartSingleTimer(PhaseTimer, new PhaseTimedOut(_unbind!.Id, _unbind.Phase), timeout);

    /// <summary>Answers from an earlier phase, unbind or driver arrive late; they change nothing.</summary>
    private void IgnoreStaleMessages()
    {
        Receive<Quiesced>(_ => { });
        Receive<Terminated>(_ => { });
        Receive<PoolDestroyed>(_ => { });
        Receive<Status.Failure>(_ => { });
        Receive<IommuTornDown>(_ => { });
        Receive<PhaseTimedOut>(_ => { });
        Receive<DriverStopTimedOut>(_ => { });
        Receive<StackQueuesRetry>(_ => { });
        Receive<RxQueuesOpened>(_ => { });
    }

    private DeviceStatus CurrentStatus() =>
        new(_options.Name, _state, _generation, _pools.Select(p => p.GetInfo()).ToArray(), _driver);
}
