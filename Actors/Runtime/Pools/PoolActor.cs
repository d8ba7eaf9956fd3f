using Akka.Actor;
using Netmem.Pool;

namespace Netmem.Actors.Pools;

/// <summary>
/// The control plane of one pool: it creates the pool, answers introspection (<see cref="GetPoolInfo"/>, like the
/// kernel's netlink <c>page-pool-get</c>) and stats, and destroys it on request. The data plane never goes through
/// it: the driver allocates and the stack returns through the pool's own lock-free paths.
/// </summary>
/// <remarks>
/// It never throws: a failed destroy is answered with <see cref="Status.Failure"/>, so a restart can never lose the
/// pool. After destroy it stays alive, so a detached pool stays visible, until the pool's last page is back.
/// </remarks>
internal sealed class PoolActor : ReceiveActor, IWithTimers
{
    private static readonly TimeSpan ReleaseCheckInterval = TimeSpan.FromMilliseconds(200);

    private readonly PagePool _pool;
    private readonly int _queueIndex;
    private PoolDestroyed? _destroyed;

    public PoolActor(PagePool pool, int queueIndex)
    {
        _pool = pool;
        _queueIndex = queueIndex;
        Receive<GetPoolInfo>(_ => Sender.Tell(_pool.GetInfo()));
        Receive<GetPoolStats>(_ => Sender.Tell(_pool.GetStats()));
        Receive<DestroyPool>(_ => Destroy());
        Receive<CheckPoolReleased>(_ =>
        {
            if (_pool.State == PagePoolState.Released)
            {
                Context.Stop(Self);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Creates a pool for RX queue <paramref name="queueIndex"/> and the actor that controls it.</summary>
    /// <exception cref="ArgumentException">The options are invalid; nothing is created.</exception>
    public static (IActorRef Actor, PagePool Pool) Create(IActorRefFactory context, PagePoolOptions options, int queueIndex, string name)
    {
        var pool = new PagePool(options);
        IActorRef actor = context.ActorOf(Props.Create(() => new PoolActor(pool, queueIndex)), name);
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
