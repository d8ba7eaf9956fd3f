using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Akka;
using Akka.Actor;
using Netmem.Actors.Devices;
using Netmem.Actors.Health;
using Netmem.Actors.Protocol;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Sockets;

namespace Netmem.Actors.Hosting;

/// <summary>
/// The composed runtime in one actor system: the network stack (<c>/user/stack</c>), one
/// <see cref="DeviceSupervisor"/> per device (<c>/user/device-{name}</c>), and a CoordinatedShutdown task that runs
/// the unbind protocol for every device before the actor system terminates, then lets the stack drain the batches
/// the drivers sent last. An <see cref="UndeliveredBatchReclaimer"/> (a system actor) returns the pages of any batch
/// that still ends up in dead letters.
/// </summary>
/// <remarks>
/// The shutdown task runs in the <c>service-unbind</c> phase, the first phase of a shutdown, while every actor is
/// still alive; it asks every device to unbind at once and waits for all the <see cref="Unbound"/> replies (each
/// bounded by the device's <see cref="DeviceOptions.MaxUnbindDuration"/>). Keep the phase's timeout above that
/// (<see cref="PagePoolRuntimeHostingExtensions.AddPagePoolRuntime(Akka.Hosting.AkkaConfigurationBuilder, PagePoolRuntimeOptions)"/> does).
/// </remarks>
public sealed class PagePoolRuntime
{
    /// <summary>The CoordinatedShutdown phase the unbind task runs in.</summary>
    public const string ShutdownPhase = CoordinatedShutdown.PhaseServiceUnbind;

    private static readonly ConditionalWeakTable<ActorSystem, PagePoolRuntime> s_runtimes = new();

    private readonly IReadOnlyList<DeviceOptions> _deviceOptions;
    private readonly RuntimeHealthRecord _health;
    private readonly TaskCompletionSource<IReadOnlyList<Unbound>> _shutdownUnbinds = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private PagePoolRuntime(
        IActorRef stack,
        FlowDemultiplexer demultiplexer,
        IReadOnlyDictionary<string, IActorRef> devices,
        PagePoolRuntimeOptions options,
        RuntimeHealthRecord health)
    {
        Stack = stack;
        Demultiplexer = demultiplexer;
        Devices = devices;
        _deviceOptions = options.Devices;
        HealthCheckOptions = options.HealthCheck;
        _health = health;
    }

    /// <summary>The <see cref="NetworkStackActor"/>.</summary>
    public IActorRef Stack { get; }

    /// <summary>The flow → socket table the stack dispatches through; its counters say where packets went.</summary>
    public FlowDemultiplexer Demultiplexer { get; }

    /// <summary>The device supervisors by device name.</summary>
    public IReadOnlyDictionary<string, IActorRef> Devices { get; }

    /// <summary>Completes with every device's <see cref="Unbound"/> once the shutdown task has run.</summary>
    public Task<IReadOnlyList<Unbound>> ShutdownUnbinds => _shutdownUnbinds.Task;

    /// <summary>
    /// Each device's last unbind report, by device name (a device not unbound yet is absent). Recorded from the
    /// actor system's event stream, so it shows an unbind shortly after its <see cref="Unbound"/> reply.
    /// </summary>
    public IReadOnlyDictionary<string, UnbindReport> LastUnbinds => _health.LastUnbinds;

    /// <summary>What the health check counts as a problem.</summary>
    public PagePoolHealthCheckOptions HealthCheckOptions { get; }

    /// <summary>
    /// Every pool the runtime's devices created and that is not released yet, introspected now (by id): the pools of
    /// the current binds, and destroyed pools still waiting for their pages.
    /// </summary>
    public IReadOnlyList<PagePoolInfo> GetPoolInfos() => _health.GetPoolInfos();

    /// <summary>The longest an unbind of all devices can take: the slowest device's phase timeouts, plus a margin.</summary>
    public TimeSpan MaxUnbindDuration => _deviceOptions.Max(d => d.MaxUnbindDuration) + TimeSpan.FromSeconds(1);

    /// <summary>
    /// Starts the runtime in <paramref name="system"/>: the stack, its consumers, one supervisor per device and the
    /// shutdown task. One runtime per actor system; <see cref="Get"/> finds it.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid (nothing is started), or the system already runs one.</exception>
    public static PagePoolRuntime Start(ActorSystem system, PagePoolRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (s_runtimes.TryGetValue(system, out _))
        {
            throw new ArgumentException($"Actor system {system.Name} already runs a page pool runtime.", nameof(system));
        }

        var demultiplexer = new FlowDemultiplexer();
        var health = new RuntimeHealthRecord();
        health.Listen(system, "pagepool-health-recorder");
        UndeliveredBatchReclaimer.Start(system, "pagepool-undelivered-batch-reclaimer");
        IActorRef stack = system.ActorOf(NetworkStackActor.Props(demultiplexer), "stack");
        foreach (ConsumerSpec consumer in options.Consumers)
        {
            stack.Tell(new OpenConsumer(consumer));
        }

        var devices = options.Devices.ToDictionary(
            d => d.Name,
            d => system.ActorOf(
                DeviceSupervisor.Props(WithMeterFactory(WithRecycleRingForConsumers(d, options.Consumers), options.MeterFactory), stack),
                "device-" + Uri.EscapeDataString(d.Name)));
        var runtime = new PagePoolRuntime(stack, demultiplexer, devices, options, health);
        s_runtimes.AddOrUpdate(system, runtime);
        CoordinatedShutdown.Get(system).AddTask(ShutdownPhase, "pagepool-unbind-devices", async () =>
        {
            try
            {
                IReadOnlyList<Unbound> unbound = await runtime.UnbindAllAsync().ConfigureAwait(false);
                await runtime.DrainStackAsync().ConfigureAwait(false);
                runtime._shutdownUnbinds.TrySetResult(unbound);
            }
            catch (Exception exception)
            {
                runtime._shutdownUnbinds.TrySetException(exception);
            }

            return Done.Instance;
        });
        return runtime;
    }

    /// <summary>
    /// Pages the consumers may hold at once, all of which may have come from one RX queue's pool: each socket's queue
    /// capacity, plus what a consumer that holds packets keeps (<see cref="ConsumerBehavior.MaxHeld"/>). Saturates.
    /// </summary>
    internal static long PagesHeldByConsumers(IReadOnlyList<ConsumerSpec> consumers)
    {
        long held = 0;
        foreach (ConsumerSpec consumer in consumers)
        {
            held += consumer.QueueCapacity;
            if (consumer.Behavior.HoldTime != TimeSpan.Zero || consumer.Behavior.DecidePacket is not null)
            {
                held += consumer.Behavior.MaxHeld;
            }

            held = Math.Min(held, int.MaxValue);
        }

        return held;
    }

    /// <summary>
    /// Gives each pool whose options do not set <see cref="PagePoolOptions.PoolSize"/> the recycle ring the
    /// driver and the consumers need (<see cref="Driver.DriverOptions.RecommendedPoolSize"/>); a size set by the caller
    /// is kept.
    /// </summary>
    internal static DeviceOptions WithRecycleRingForConsumers(DeviceOptions device, IReadOnlyList<ConsumerSpec> consumers)
    {
        int recommended = device.Driver.RecommendedPoolSize(PagesHeldByConsumers(consumers));
        Func<int, PagePoolOptions> poolOptions = device.PoolOptions;
        return device with
        {
            PoolOptions = queue =>
            {
                PagePoolOptions own = poolOptions(queue);
                return !own.PoolSizeChosen && recommended > own.PoolSize ? own with { PoolSize = recommended } : own;
            },
        };
    }

    private static DeviceOptions WithMeterFactory(DeviceOptions device, IMeterFactory? meterFactory)
    {
        if (meterFactory is null)
        {
            return device;
        }

        Func<int, PagePoolOptions> poolOptions = device.PoolOptions;
        return device with
        {
            PoolOptions = queue =>
            {
                PagePoolOptions own = poolOptions(queue);
                return own.MeterFactory is null ? own with { MeterFactory = meterFactory } : own;
            },
        };
    }

    /// <summary>The runtime started in <paramref name="system"/>.</summary>
    /// <exception cref="InvalidOperationException">No runtime was started in that actor system (yet).</exception>
    public static PagePoolRuntime Get(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return s_runtimes.TryGetValue(system, out PagePoolRuntime? runtime)
            ? runtime
            : throw new InvalidOperationException($"No page pool runtime runs in actor system {system.Name}; add it with AddPagePoolRuntime and start the host first.");
    }

    /// <summary>The longest an unbind of <paramref name="device"/> takes when every device call returns promptly.</summary>
    internal TimeSpan MaxUnbindDurationOf(string device) => _deviceOptions.First(d => d.Name == device).MaxUnbindDuration;

    /// <summary>
    /// The pools device <paramref name="device"/> has now (the objects, live), by queue: empty when it is not bound.
    /// Each bind makes new pools; ask after each <see cref="Bound"/> to see them all.
    /// </summary>
    /// <exception cref="ArgumentException">No device of that name runs in this runtime.</exception>
    public async Task<IReadOnlyList<PagePool>> PoolsOfAsync(string device, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!Devices.TryGetValue(device, out IActorRef? supervisor))
        {
            throw new ArgumentException($"No device named '{device}' runs in this runtime.", nameof(device));
        }

        DevicePools pools = await supervisor.Ask<DevicePools>(GetDevicePools.Instance, timeout, cancellationToken).ConfigureAwait(false);
        return pools.Pools;
    }

    /// <summary>Unbinds every device at once and returns their <see cref="Unbound"/> replies, by device order.</summary>
    public async Task<IReadOnlyList<Unbound>> UnbindAllAsync()
    {
        TimeSpan timeout = MaxUnbindDuration;
        Unbound[] unbound = await Task.WhenAll(Devices.Values.Select(d => d.Ask<Unbound>(Unbind.Instance, timeout))).ConfigureAwait(false);
        return unbound;
    }

    /// <summary>
    /// Waits until every stack queue has handled every batch its (now quiesced) driver sent, so the batches reach
    /// their sockets (whose owners return the pages) before the actor system stops the stack. A queue's answer to
    /// a status request proves it: the driver enqueued its last batch before acknowledging the quiesce, and this
    /// request is enqueued after the unbind that followed it.
    /// </summary>
    private async Task DrainStackAsync()
    {
        TimeSpan timeout = MaxUnbindDuration;
        foreach (DeviceOptions device in _deviceOptions)
        {
            RxQueuesOpened opened = await Stack.Ask<RxQueuesOpened>(new OpenRxQueues(device.Name, device.QueueCount), timeout).ConfigureAwait(false);
            await Task.WhenAll(opened.Queues.Select(q => q.Ask<StackQueueStatus>(GetStackQueueStatus.Instance, timeout))).ConfigureAwait(false);
        }
    }
}
