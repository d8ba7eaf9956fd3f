using System.Collections.Concurrent;
using Akka.Actor;
using Netmem.Actors.Pools;
using Netmem.Actors.Protocol;
using Netmem.Pool;

namespace Netmem.Actors.Health;

/// <summary>
/// What the health check reads besides the devices' status: each device's last unbind report and every pool the
/// runtime's devices created that is not released yet. Written by <see cref="RuntimeHealthRecorder"/>, read by anyone.
/// </summary>
internal sealed class RuntimeHealthRecord
{
    private readonly ConcurrentDictionary<string, UnbindReport> _lastUnbinds = new();
    private readonly ConcurrentDictionary<PagePool, byte> _pools = new(ReferenceEqualityComparer.Instance);

    /// <summary>Each device's last unbind report, by device name.</summary>
    public IReadOnlyDictionary<string, UnbindReport> LastUnbinds => new Dictionary<string, UnbindReport>(_lastUnbinds);

    /// <summary>Starts a <see cref="RuntimeHealthRecorder"/> that fills this record, subscribed before anything it records can happen.</summary>
    public void Listen(ActorSystem system, string name)
    {
        IActorRef recorder = system.ActorOf(RuntimeHealthRecorder.Props(this), name);
        system.EventStream.Subscribe(recorder, typeof(Unbound));
        system.EventStream.Subscribe(recorder, typeof(PoolStarted));
    }

    public void RecordUnbind(UnbindReport report) => _lastUnbinds[report.Device] = report;

    public void AddPool(PagePool pool)
    {
        ForgetReleasedPools();
        _pools.TryAdd(pool, 0);
    }

    /// <summary>Every pool not released yet, introspected now, by id.</summary>
    public IReadOnlyList<PagePoolInfo> GetPoolInfos()
    {
        ForgetReleasedPools();
        return _pools.Keys.Select(p => p.GetInfo()).Where(i => i.State != PagePoolState.Released).OrderBy(i => i.Id).ToArray();
    }

    private void ForgetReleasedPools()
    {
        foreach (PagePool pool in _pools.Keys)
        {
            if (pool.State == PagePoolState.Released)
            {
                _pools.TryRemove(pool, out _);
            }
        }
    }
}
