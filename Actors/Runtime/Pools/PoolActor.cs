using Akka.Actor;
using Akka.Event;
using Netmem.Pool;

namespace Netmem.Actors.Pools;

/// <summary>
/// The control plane of one pool: it creates the pool, answers introspection (<see cref="GetPoolInfo"/>, like the
/// kernel's netlink <c>page-pool-get</c>) and stats, and destroys it on request. The data plane never goes through
/// it: the driver allocates and the stack returns through the pool's own lock-free paths.
/// </summary>
/// <remarks>
/// It never throws: a failed destroy is answered with <see cref="Status.Failure"/>, so a restart can never lose the
/// pool. After destroy it stays alive, so a detached pool stays visible, until the pool's last page is back; while
/// it waits it logs the stall through Akka's log (a warning in the kernel's words, <c>stalled pool shutdown: N
/// inflight, T s</c>) with the back-off of <see cref="PagePoolOptions.StallLogFirstAfter"/> and
/// <see cref="PagePoolOptions.StallLogMaxInterval"/>, unless the pool's options give it a logger of its own
/// (<see cref="PagePoolOptions.LoggerFactory"/>), which then logs instead. It announces its pool on the event stream
/// (<see cref="PoolStarted"/>), so the runtime's health check sees the pool until it is released.
/// </remarks>
internal sealed class PoolActor : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan ReleaseCheckInterval = TimeSpan.FromMilliseconds(200);

    private readonly PagePool _pool;
    private readonly int _queueIndex;
    private readonly StallBackoff? _stallLog;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private PoolDestroyed? _destroyed;

    /// <summary>Controls <paramref name="pool"/>; logs a stall with the default back-off (1 s doubling to 60 s).</summary>
    public PoolActor(PagePool pool, int queueIndex)
        : this(pool, queueIndex, new PagePoolOptions())
    {
    }

    /// <summary>Controls <paramref name="pool"/>, created with <paramref name="options"/> (which say how to log a stall).</summary>
    public PoolActor(PagePool pool, int queueIndex, PagePoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        _pool = pool;
        _queueIndex = queueIndex;
        _stallLog = options.LoggerFactory is null ? new StallBackoff(options.StallLogFirstAfter, options.StallLogMaxInterval) : null;
        Receive<GetPoolInfo>(_ => Sender.Tell(_pool.GetInfo()));
        Receive<GetPoolStats>(_ => Sender.Tell(_pool.GetStats()));
        Receive<DestroyPool>(_ => Destroy());
        Receive<CheckPoolReleased>(_ =>
        {
            if (_pool.State == PagePoolState.Released)
            {
                Context.Stop(Self);
            }
            else if (_stallLog is not null && _pool.GetInfo() is { StalledFor: { } stalledFor } info && _stallLog.IsDue(stalledFor))
            {
                _log.Warning("{0}", info.DescribeStall());
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart() => Context.System.EventStream.Publish(new PoolStarted(_pool));

    /// <summary>Creates a pool for RX queue <paramref name="queueIndex"/> and the actor that controls it.</summary>
    /// <exception cref="ArgumentException">The options are invalid; nothing is created.</exception>
    public static (IActorRef Actor, PagePool Pool) Create(IActorRefFactory context, PagePoolOptions options, int queueIndex, string name)
    {
        var pool = new PagePool(options);
        IActorRef actor = context.ActorOf(Props.Create(() => new PoolActor(pool, queueIndex, options)), name);
        return (actor, pool);
    }

    private void Destroy()
    {
        if (_destroyed is null)
        {
            try
            {
                _destroyed = new PoolDestroyed(_queueIndex, _pool.Destroy());
            }
            catch (Exception exception)
            {
                Sender.Tell(new Status.Failure(exception));
                return;
            }

            Timers.StartPeriodicTimer(CheckPoolReleased.Instance, CheckPoolReleased.Instance, ReleaseCheckInterval);
        }

        Sender.Tell(_destroyed);
    }
}
