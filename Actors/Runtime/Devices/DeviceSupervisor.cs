using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Netmem.Actors.Devices.Guard;
using Netmem.Actors.Pools;
using Netmem.Actors.Protocol;
using Netmem.Driver;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Actors;

namespace Netmem.Actors.Devices;

/// <summary>
/// One device's supervisor: it binds the device (its DMA domain, one pool per RX queue, a driver) and runs the
/// unbind protocol: driver quiesce → (after its timeout: receive sides closed by the supervisor) → every pool
/// destroyed → (after a timeout: device access revoked) → domain torn down → <see cref="Unbound"/>.
/// </summary>
/// <remarks>
/// <para>The guarantee: when <see cref="Unbound"/> is sent, every page the device's pools lent is back, unmapped, or
/// revoked with the domain, and no device call (map, unmap, sync, receive, teardown) for that bind is running or can
/// start — whatever timed out. Pages still held by sockets come back later as late returns and make no device
/// call.</para>
/// <para>How timeouts escalate without letting the reply overtake the device. Every call into the bind goes through
/// one <see cref="DeviceCallGuard"/> (pools' DMA calls, the driver's receive sides, the teardown). A timeout never
/// skips a wait on the device; it changes what is waited for:</para>
/// <list type="bullet">
/// <item>Quiesce: the driver is stopped, and the supervisor closes its receive sides itself
/// (<see cref="UnbindPhase.CloseReceive"/>) before any pool is destroyed. The device stops before its pages are
/// unmapped: every page posted to a receive side can be written by the device until that side is closed, and a driver
/// that hung may be hung <i>inside</i> the device (a reap that has not returned, which writes the frames waiting on the
/// wire when it does). Destroying the pools first would unmap posted pages under a live receive engine: a DMA fault,
/// or without an IOMMU a write into memory the pool has given away. So each close first waits for the call inside its
/// receive side (they share one lock, see <c>GuardedRxQueueDevice</c>), then stops the engine and takes the posted
/// pages back; only then are the pools destroyed, and whatever the driver still holds comes back as late returns. A
/// close that outlives its timeout is reported and still waited for: escalating here would be the very fault this
/// order prevents. A hung driver that is not inside the device costs nothing more: its receive sides close at once,
/// and its pools refuse it once destroyed.</item>
/// <item>Destroy: the pools' device access is revoked (<see cref="PagePool.RevokeDeviceAccess"/>): their gates close
/// to every new call, destroy's walk stops calling the device and leaves the mappings it had not reached to the
/// domain teardown, counted as revoked. The run then waits until every pool has answered and no pool call is running,
/// and only then closes the guard to everyone else (a hung driver) and waits for the guard to drain. Revoking the pools
/// first means no pool call is ever refused half-way by the guard, so every mapping is either unmapped once or
/// counted as revoked, and the teardown can tell revoked mappings from leaks.</item>
/// <item>Teardown: reported late, and still waited for: it is itself a device call.</item>
/// </list>
/// <para>So the only unbounded wait is a device call that never returns; then <see cref="Unbound"/> never comes, and
/// the log and <see cref="DeviceStatus.WaitingFor"/> say which call is stuck and for how long. Requests that arrive
/// during an unbind, and after it until the next bind, all get the same <see cref="Unbound"/>. A <see cref="Bind"/>
/// during an unbind waits for it.</para>
/// <para>Driver crashes: while bound the driver is restarted (its <c>PostStop</c> returns its pages; the new
/// instance refills from the same pools), up to <see cref="DeviceOptions.MaxDriverRestarts"/>; during an unbind a
/// crashing driver is stopped instead, which ends the quiesce phase with its pages returned.</para>
/// </remarks>
public sealed class DeviceSupervisor : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    private const string PhaseTimer = "phase";
    private const string StackTimer = "stack";
    private const string DeviceCallsTimer = "device-calls";
    private static readonly TimeSpan DeviceCallsCheckInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan StackRetryInterval = TimeSpan.FromSeconds(1);

    private readonly DeviceOptions _options;
    private readonly IActorRef _stack;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IReadOnlyList<IActorRef> _stackQueues = [];
    private DeviceState _state = DeviceState.Starting;
    private int _generation;
    private GuardedDeviceBinding? _binding;
    private PagePool[] _pools = [];
    private IActorRef[] _poolActors = [];
    private IActorRef? _driver;
    private Bound? _bound;
    private Unbound? _lastUnbound;
    private UnbindRun? _unbind;
    private long _unbindCount;

    /// <summary>A supervisor for the device <paramref name="options"/> describe; <paramref name="stack"/> opens its RX queues.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public DeviceSupervisor(DeviceOptions options, IActorRef stack)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _stack = stack;
        Starting();
    }

    /// <summary>Set by Akka: the phase timers of an unbind.</summary>
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Set by Akka: holds a bind that arrives during an unbind until it ends.</summary>
    public IStash Stash { get; set; } = null!;

    /// <param name="options">The device to supervise; checked here.</param>
    /// <param name="stack">The <see cref="NetworkStackActor"/> (or anything that answers <see cref="OpenRxQueues"/>).</param>
    public static Props Props(DeviceOptions options, IActorRef stack) =>
        Akka.Actor.Props.Create(() => new DeviceSupervisor(options, stack));

    /// <summary>Asks the stack for the device's RX queues; the device binds once they are open (if it binds on start).</summary>
    protected override void PreStart()
    {
        _stack.Tell(new OpenRxQueues(_options.Name, _options.QueueCount));
        Timers.StartPeriodicTimer(StackTimer, StackQueuesRetry.Instance, StackRetryInterval);
    }

    /// <summary>Restarts a crashed driver while bound (within its budget), stops it during an unbind.</summary>
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
        Receive<GetDevicePools>(_ => Sender.Tell(new DevicePools(_options.Name, _generation, _pools)));
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
            Receive<GetDevicePools>(_ => Sender.Tell(new DevicePools(_options.Name, _generation, _pools)));
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
            Receive<GetDevicePools>(_ => Sender.Tell(new DevicePools(_options.Name, _generation, _pools)));
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
        PagePoolOptions first = _options.PoolOptions(0);
        IDeviceBinding device = _options.Device.Bind(new DeviceBindContext(_options.QueueCount, first.PageSize, _options.Driver.RingSize));
        var binding = new GuardedDeviceBinding(device, _options.Name, _options.QueueCount);
        _binding = binding;
        var pools = new List<PagePool>();
        var actors = new List<IActorRef>();
        _pools = [];
        _poolActors = [];
        try
        {
            for (int queue = 0; queue < _options.QueueCount; queue++)
            {
                PagePoolOptions poolOptions = queue == 0 ? first : _options.PoolOptions(queue);
                poolOptions = poolOptions with
                {
                    Device = binding.GetDmaDevice(queue),
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

        var setup = new DriverSetup(_options.Name, binding, _pools, _stackQueues, _options.Driver);
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

        PagePool[] pools = _pools;
        foreach (PagePool pool in pools)
        {
            pool.Destroy();
        }

        foreach (IActorRef actor in _poolActors)
        {
            Context.Stop(actor);
        }

        _pools = [];
        _poolActors = [];
        if (_binding is not null)
        {
            _binding.Guard.Revoke();
            _binding.TearDown(0);
            _binding = null;
            ReleaseAfterDomainTeardown(pools);
        }
    }

    /// <summary>The domain's teardown returned: each pool gives back the memory it held for mappings left to it.</summary>
    private static void ReleaseAfterDomainTeardown(PagePool[] pools)
    {
        foreach (PagePool pool in pools.Where(p => p.State != PagePoolState.Active || p.IsDeviceAccessRevoked))
        {
            pool.ReleaseAfterDomainTeardown();
        }
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
            Receive<GetDevicePools>(_ => Sender.Tell(new DevicePools(_options.Name, _generation, _pools)));
            Receive<Quiesced>(_ => _unbind!.Phase == UnbindPhase.Quiesce && Sender.Equals(_driver), OnQuiesced);
            Receive<Terminated>(t => t.ActorRef.Equals(_driver), _ => OnDriverStopped());
            Receive<PoolDestroyed>(_ => _unbind!.Phase is UnbindPhase.DestroyPools or UnbindPhase.RevokeDeviceAccess && _unbind.PoolsToAnswer.Contains(Sender), OnPoolDestroyed);
            Receive<Status.Failure>(_ => _unbind!.Phase is UnbindPhase.DestroyPools or UnbindPhase.RevokeDeviceAccess && _unbind.PoolsToAnswer.Contains(Sender), OnPoolDestroyFailed);
            Receive<DeviceTornDown>(t => _unbind!.Phase == UnbindPhase.TeardownDomain && t.UnbindId == _unbind.Id, OnDeviceTornDown);
            Receive<ReceiveSidesClosed>(t => _unbind!.Phase == UnbindPhase.CloseReceive && t.UnbindId == _unbind.Id, OnReceiveSidesClosed);
            Receive<CheckDeviceCalls>(t => t.UnbindId == _unbind!.Id, _ => CheckDeviceCalls());
            Receive<PhaseTimedOut>(t => t.UnbindId == _unbind!.Id && t.Phase == _unbind.Phase, OnPhaseTimedOut);
            IgnoreStaleMessages();
        });

        _unbind.Begin(UnbindPhase.Quiesce);
        if (_driver is null)
        {
            _unbind.End(UnbindPhaseOutcome.DriverStopped, "the driver had already stopped; its pages were returned when it stopped");
            BeginDestroyPools();
            return;
        }

        // Each phase's timer is set before its first request goes out: a test on virtual time that advances the
        // clock as soon as it sees the request then always finds the timer there.
        StartPhaseTimer(_options.QuiesceTimeout);
        _driver.Tell(Quiesce.Instance);
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
        if (run.Phase == UnbindPhase.Quiesce)
        {
            // Its PostStop closed its receive sides before Terminated was sent: the device writes nothing now.
            Timers.Cancel(PhaseTimer);
            run.End(UnbindPhaseOutcome.DriverStopped, "the driver stopped (crashed) before acknowledging; stopping returned its ring pages");
            BeginDestroyPools();
        }
    }

    /// <summary>
    /// The driver did not quiesce in time: it is told to stop, and the supervisor closes its receive sides itself,
    /// each once the driver's call still inside it has returned. The pools are destroyed only after that (see the
    /// class remarks): until a receive side is closed, the device may write into every page posted to it.
    /// </summary>
    private void BeginCloseReceive()
    {
        UnbindRun run = _unbind!;
        if (_driver is not null)
        {
            Context.Unwatch(_driver);
            Context.Stop(_driver);
            _driver = null;
        }

        run.Begin(UnbindPhase.CloseReceive);
        StartPhaseTimer(_options.QuiesceTimeout);
        Timers.StartPeriodicTimer(DeviceCallsTimer, new CheckDeviceCalls(run.Id), DeviceCallsCheckInterval);
        long id = run.Id;
        GuardedDeviceBinding binding = _binding!;
        Task.Factory.StartNew(binding.CloseReceiveSides, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            .PipeTo(
                Self,
                success: closed => new ReceiveSidesClosed(id, closed.PagesReturned, closed.Failures),
                failure: exception => new ReceiveSidesClosed(id, 0, [exception.Message]));
    }

    private void OnReceiveSidesClosed(ReceiveSidesClosed closed)
    {
        UnbindRun run = _unbind!;
        Timers.Cancel(PhaseTimer);
        Timers.Cancel(DeviceCallsTimer);
        run.RingPagesReturned += closed.PagesReturned;
        string? late = run.CloseReceiveLate ? $"took longer than {_options.QuiesceTimeout} (a driver call was still inside the device); the unbind waited for it" : null;
        string detail = string.Join("; ", closed.Failures.Append(late).Append($"{closed.PagesReturned} posted page(s) returned").OfType<string>());
        UnbindPhaseOutcome outcome = closed.Failures.Count > 0 ? UnbindPhaseOutcome.Failed
            : run.CloseReceiveLate ? UnbindPhaseOutcome.TimedOut
            : UnbindPhaseOutcome.Completed;
        run.End(outcome, detail);
        BeginDestroyPools();
    }

    private void BeginDestroyPools()
    {
        UnbindRun run = _unbind!;
        run.Begin(UnbindPhase.DestroyPools);
        if (_poolActors.Length == 0)
        {
            run.End(UnbindPhaseOutcome.Completed, null);
            BeginTeardown();
            return;
        }

        StartPhaseTimer(_options.DestroyTimeout);
        foreach (IActorRef pool in _poolActors)
        {
            run.PoolsToAnswer.Add(pool);
            pool.Tell(DestroyPool.Instance);
        }
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

        if (run.Phase == UnbindPhase.RevokeDeviceAccess)
        {
            CheckDeviceCalls();
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

    /// <summary>
    /// The destroy phase ran out of time: close every pool's device access (their walks stop calling the device and
    /// leave the rest to the domain teardown), then wait for the pools to answer and their calls to return.
    /// </summary>
    private void BeginRevoke()
    {
        UnbindRun run = _unbind!;
        run.Begin(UnbindPhase.RevokeDeviceAccess);
        run.Revoked = true;
        foreach (PagePool pool in _pools)
        {
            pool.RevokeDeviceAccess();
        }

        Timers.StartPeriodicTimer(DeviceCallsTimer, new CheckDeviceCalls(run.Id), DeviceCallsCheckInterval);
        CheckDeviceCalls();
    }

    /// <summary>Polled while the run waits on the device: moves on once nothing is inside, and says what it waits for.</summary>
    private void CheckDeviceCalls()
    {
        UnbindRun run = _unbind!;
        DeviceCallGuard guard = _binding!.Guard;
        if (run.Phase == UnbindPhase.RevokeDeviceAccess)
        {
            if (run.PoolsToAnswer.Count == 0 && _pools.All(p => p.DeviceCallsInFlight == 0))
            {
                // No pool call runs or can start: now close the device to everyone else (a driver that hung).
                guard.Revoke();
                if (guard.InFlight == 0)
                {
                    Timers.Cancel(DeviceCallsTimer);
                    run.End(UnbindPhaseOutcome.Completed, $"{MappingsLeftToDomain()} mapping(s) left to the domain teardown; {guard.RefusedAfterRevoke} call(s) refused");
                    BeginTeardown();
                    return;
                }
            }
        }
        else if (run.Phase == UnbindPhase.TeardownDomain && !run.TeardownStarted && guard.InFlight == 0)
        {
            StartTeardownCall();
        }

        ReportWaitIfDue(run);
    }

    private void ReportWaitIfDue(UnbindRun run)
    {
        if (Stopwatch.GetElapsedTime(run.LastStuckReport) < _options.StuckCallReportInterval)
        {
            return;
        }

        run.LastStuckReport = Stopwatch.GetTimestamp();
        string? waitingFor = WaitingFor();
        if (waitingFor is not null)
        {
            _log.Warning("{0}: unbind {1} waits: {2}; Unbound is not sent while a device call may run", _options.Name, run.Phase, waitingFor);
        }
    }

    /// <summary>What the unbind in progress is waiting for on the device, in words; null when it waits for nothing there.</summary>
    private string? WaitingFor()
    {
        if (_unbind is not { } run || _binding is null || run.Phase is UnbindPhase.Quiesce or UnbindPhase.DestroyPools)
        {
            return null;
        }

        var parts = new List<string>();
        if (run.PoolsToAnswer.Count > 0)
        {
            parts.Add($"{run.PoolsToAnswer.Count} pool(s) still destroying ({string.Join(", ", run.PoolsToAnswer.Select(p => p.Path.Name))})");
        }

        if (_binding.Guard.OldestCall() is { } call)
        {
            parts.Add($"device call {call}");
        }
        else if (_binding.Guard.InFlight > 0)
        {
            parts.Add($"{_binding.Guard.InFlight} device call(s) in flight");
        }

        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    /// <summary>
    /// Tears the domain down once no call is inside the device: the guard is closed first (on the normal path the
    /// pools are destroyed, so only a driver that hung could still be calling), then the teardown runs off the actor
    /// thread, counted by the guard like any call.
    /// </summary>
    private void BeginTeardown()
    {
        UnbindRun run = _unbind!;
        run.Begin(UnbindPhase.TeardownDomain);
        _binding!.Guard.Revoke();
        StartPhaseTimer(_options.TeardownTimeout);
        if (_binding.Guard.InFlight == 0)
        {
            StartTeardownCall();
        }
        else
        {
            Timers.StartPeriodicTimer(DeviceCallsTimer, new CheckDeviceCalls(run.Id), DeviceCallsCheckInterval);
        }
    }

    private void StartTeardownCall()
    {
        UnbindRun run = _unbind!;
        run.TeardownStarted = true;
        long id = run.Id;
        long revoked = MappingsLeftToDomain();
        run.RevokedAtTeardown = revoked;
        GuardedDeviceBinding binding = _binding!;
        Task.Run(() => binding.TearDown(revoked)).PipeTo(
            Self,
            success: report => new DeviceTornDown(id, report, null),
            failure: exception => new DeviceTornDown(id, null, exception));
    }

    /// <summary>
    /// The mappings this bind's pools left to the domain teardown: every unmap claim taken under revocation, counted
    /// by each pool (<see cref="PagePoolStats.RevokedWithDomain"/>). Not the destroy reports' sum: a report is a
    /// snapshot, and a mapping revoked by a releaser is missing from it when that release counts itself after the
    /// report was written (it lands in the report's <see cref="PagePoolDestroyReport.StillInflight"/>) or came
    /// before destroy's snapshot (a pool revoked while its destroy still waited for its owner). Read once every pool
    /// has answered: by then each walk has claimed every page still mapped, so the count is final.
    /// </summary>
    private long MappingsLeftToDomain() => _pools.Sum(pool => pool.GetStats().RevokedWithDomain);

    private void OnDeviceTornDown(DeviceTornDown tornDown)
    {
        UnbindRun run = _unbind!;
        Timers.Cancel(PhaseTimer);
        Timers.Cancel(DeviceCallsTimer);
        run.Teardown = tornDown.Report;

        // The teardown returned, so no mapping is live: memory the pools held for it may go back. A teardown that
        // threw may have left mappings, so that memory stays held (leaked, never handed on).
        if (tornDown.Failure is null)
        {
            ReleaseAfterDomainTeardown(_pools);
        }

        string? late = run.TeardownLate ? $"took longer than {_options.TeardownTimeout}; Unbound waited for it" : null;
        if (tornDown.Failure is not null)
        {
            run.End(UnbindPhaseOutcome.Failed, string.Join("; ", new[] { tornDown.Failure.Message, late }.OfType<string>()));
        }
        else
        {
            string? leaked = tornDown.Report!.LeakedMappings == 0 ? null : $"{tornDown.Report.LeakedMappings} mapping(s) were still live that no pool had revoked";
            string? detail = string.Join("; ", new[] { leaked, late }.OfType<string>());
            run.End(run.TeardownLate ? UnbindPhaseOutcome.TimedOut : UnbindPhaseOutcome.Completed, detail.Length == 0 ? null : detail);
        }

        CompleteUnbind();
    }

    private void OnPhaseTimedOut(PhaseTimedOut timedOut)
    {
        UnbindRun run = _unbind!;
        switch (timedOut.Phase)
        {
            case UnbindPhase.Quiesce:
                run.End(UnbindPhaseOutcome.TimedOut, $"the driver did not acknowledge within {_options.QuiesceTimeout}; it was stopped and its receive sides closed by the supervisor");
                BeginCloseReceive();
                break;
            case UnbindPhase.CloseReceive:
                run.CloseReceiveLate = true;
                run.LastStuckReport = 0;
                _log.Warning("{0}: closing the receive sides did not finish within {1}; the pools are not destroyed before it does", _options.Name, _options.QuiesceTimeout);
                break;
            case UnbindPhase.DestroyPools:
                run.End(UnbindPhaseOutcome.TimedOut, $"{run.PoolsToAnswer.Count} pool(s) did not finish within {_options.DestroyTimeout}: "
                    + string.Join(", ", run.PoolsToAnswer.Select(p => p.Path.Name)) + "; their device access was revoked");
                BeginRevoke();
                break;
            case UnbindPhase.TeardownDomain:
                run.TeardownLate = true;
                run.LastStuckReport = 0;
                _log.Warning("{0}: the domain teardown did not finish within {1}; Unbound waits for it", _options.Name, _options.TeardownTimeout);
                Timers.StartPeriodicTimer(DeviceCallsTimer, new CheckDeviceCalls(run.Id), DeviceCallsCheckInterval);
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
            run.RevokedAtTeardown,
            reports.Sum(r => r.HeldAtReport),
            run.Teardown?.LeakedMappings ?? 0,
            run.Teardown?.Violations ?? 0,
            run.Results.ToArray(),
            run.StartedAt,
            Stopwatch.GetElapsedTime(run.Started));
        _lastUnbound = new Unbound(report);
        Context.System.EventStream.Publish(_lastUnbound);
        ActorsMetrics.RecordUnbind(report);
        foreach (IActorRef waiter in run.Waiters)
        {
            waiter.Tell(_lastUnbound);
        }

        _unbind = null;
        _binding = null;
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
        Receive<DeviceTornDown>(_ => { });
        Receive<CheckDeviceCalls>(_ => { });
        Receive<PhaseTimedOut>(_ => { });
        Receive<ReceiveSidesClosed>(_ => { });
        Receive<StackQueuesRetry>(_ => { });
        Receive<RxQueuesOpened>(_ => { });
    }

    private DeviceStatus CurrentStatus() =>
        new(_options.Name, _state, _generation, _pools.Select(p => p.GetInfo()).ToArray(), _driver, WaitingFor(), _unbind?.StartedAt);
}
