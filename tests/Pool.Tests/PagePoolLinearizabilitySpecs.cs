using System.Collections.Concurrent;
using CsCheck;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// Linearizability of the pool's public operations against a sequential model, with CsCheck's SampleParallel.
/// </summary>
/// <remarks>
/// The allocation side (allocate, recycle-direct, destroy) belongs to one owner at a time, so those operations
/// take an owner lock: ownership moves between threads, which the contract allows, and they race freely with
/// returns, which may come from any thread. Setup lends <see cref="SetupPages"/> pages; returns and recycles name
/// one of them, so two parallel returns of the same page are a double return of which exactly one must succeed.
/// The model predicts every outcome and every counter, including where each page went (cache, ring, released).
/// </remarks>
public sealed class PagePoolLinearizabilitySpecs
{
    private const int SetupPages = 6;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(5);

    [Fact]
    public void Alloc_return_recycle_and_destroy_are_linearizable()
    {
        var created = new ConcurrentBag<ActualPool>();
        try
        {
            Sample(created);
        }
        finally
        {
            foreach (ActualPool actual in created)
            {
                actual.Release();
            }
        }

        Assert.All(created, actual => Assert.True(actual.IsReleased, actual.ToString()));
    }

    private static void Sample(ConcurrentBag<ActualPool> created)
    {
        Gen.Const(() =>
            {
                var actual = new ActualPool();
                created.Add(actual);
                return (actual, new ModelPool());
            })
            .SampleParallel(
                [
                    Gen.Int[0, SetupPages - 1].Operation<ActualPool, ModelPool>(i => $"Return({i})", (a, i) => a.Return(i), (m, i) => m.Return(i)),
                    Gen.Int[0, SetupPages - 1].Operation<ActualPool, ModelPool>(i => $"RecycleDirect({i})", (a, i) => a.RecycleDirect(i), (m, i) => m.RecycleDirect(i)),
                    Gen.Operation<ActualPool, ModelPool>("Allocate", a => a.Allocate(), m => m.Allocate()),
                    Gen.Operation<ActualPool, ModelPool>("Destroy", a => a.Destroy(), m => m.Destroy()),
                    Gen.Operation<ActualPool, ModelPool>("ReadStats", a => a.ReadStats(), _ => { }),
                ],
                equal: (actual, model) => actual.Matches(model),
                iter: 300,
                threads: 1,
                printActual: a => a.ToString(),
                printModel: m => m.ToString());
    }

    /// <summary>Outcome counts per page: returns that succeeded and returns refused as double.</summary>
    private sealed record Outcomes(int[] Succeeded, int[] RefusedAsDouble)
    {
        public Outcomes()
            : this(new int[SetupPages], new int[SetupPages])
        {
        }

        public bool SameAs(Outcomes other) => Succeeded.SequenceEqual(other.Succeeded) && RefusedAsDouble.SequenceEqual(other.RefusedAsDouble);

        public override string ToString() => $"ok [{string.Join(",", Succeeded)}] double [{string.Join(",", RefusedAsDouble)}]";
    }

    private sealed class ActualPool
    {
        private readonly Lock _owner = new();
        private readonly Lazy<(PagePool Pool, HostPageProvider Provider, NetmemRef[] Pages)> _created = new(Create);
        private readonly List<NetmemRef> _allocatedInRun = new();
        private readonly Outcomes _outcomes = new();
        private int _allocationsRefused;
        private int _destroys;
        private int _destroysRefused;
        private int _negativeInflightSeen;
        private string _unexpected = string.Empty;
        private bool _settled;

        private PagePool Pool => _created.Value.Pool;

        public void Return(int page) => Returning(page, () => Pool.Return(_created.Value.Pages[page]));

        public void RecycleDirect(int page)
        {
            lock (_owner)
            {
                Returning(page, () => Pool.RecycleDirect(_created.Value.Pages[page]));
            }
        }

        public void Allocate()
        {
            lock (_owner)
            {
                try
                {
                    _allocatedInRun.Add(Pool.Allocate());
                }
                catch (PoolDestroyedException)
                {
                    _allocationsRefused++;
                }
            }
        }

        public void Destroy()
        {
            lock (_owner)
            {
                try
                {
                    Pool.Destroy();
                    _destroys++;
                }
                catch (PoolAlreadyDestroyedException)
                {
                    _destroysRefused++;
                }
            }
        }

        public void ReadStats()
        {
            PagePoolStats stats = Pool.GetStats();
            if (stats.Hold < stats.Release || Pool.Inflight < 0)
            {
                Interlocked.Increment(ref _negativeInflightSeen);
            }
        }

        public bool Matches(ModelPool model)
        {
            Settle();
            PagePoolStats stats = Pool.GetStats();
            return _unexpected.Length == 0
                && Volatile.Read(ref _negativeInflightSeen) == 0
                && _outcomes.SameAs(model.Outcomes)
                && _allocatedInRun.Count == model.Allocated
                && _allocationsRefused == model.AllocationsRefused
                && _destroys == (model.Destroyed ? 1 : 0)
                && _destroysRefused == model.DestroysRefused
                && (Pool.State == PagePoolState.Active) == !model.Destroyed
                && stats.Hold == model.Hold
                && stats.Release == model.Released
                && stats.AllocFast == model.AllocFast
                && stats.AllocSlow == model.AllocSlow
                && stats.AllocRefill == model.AllocRefill
                && stats.RecycleCached == model.RecycleCached
                && stats.RecycleRing == model.RecycleRing
                && stats.LateReturns == model.LateReturns
                && Pool.GetOutstandingAllocations().Count == model.LentCount
                && _created.Value.Provider.OutstandingPages == model.Hold - model.Released;
        }

        public bool IsReleased => !_created.IsValueCreated || Pool.State == PagePoolState.Released;

        /// <summary>After the sample: destroys the pool if the run did not and returns every page still lent.</summary>
        public void Release()
        {
            if (!_created.IsValueCreated)
            {
                return;
            }

            if (Pool.State == PagePoolState.Active)
            {
                Pool.Destroy();
            }

            foreach (OutstandingAllocation outstanding in Pool.GetOutstandingAllocations())
            {
                Pool.Return(outstanding.Netmem);
            }

            SpinWait.SpinUntil(() => Pool.State == PagePoolState.Released, Patience);
        }

        public override string ToString() =>
            $"{_outcomes}; allocated {_allocatedInRun.Count}, refused {_allocationsRefused}; destroys {_destroys}/{_destroysRefused}; {Pool.State}; {Pool.GetStats()}; {_unexpected}";

        private static (PagePool, HostPageProvider, NetmemRef[]) Create()
        {
            var provider = new HostPageProvider(4096, chunkBytes: 64 * 4096);
            var pool = new PagePool(new PagePoolOptions { MemoryProvider = provider, ReleaseRetryInterval = TimeSpan.FromMilliseconds(1) });
            NetmemRef[] pages = Enumerable.Range(0, SetupPages).Select(_ => pool.Allocate()).ToArray();
            return (pool, provider, pages);
        }

        private void Returning(int page, Action returning)
        {
            try
            {
                returning();
                Interlocked.Increment(ref _outcomes.Succeeded[page]);
            }
            catch (DoubleReturnException)
            {
                Interlocked.Increment(ref _outcomes.RefusedAsDouble[page]);
            }
            catch (Exception e)
            {
                _unexpected += e.GetType().Name + ": " + e.Message + " ";
            }
        }

        /// <summary>
        /// A return that saw the pool active may reach the ring after destroy drained it; the retry timer releases
        /// it. Wait (bounded) for that, so a destroyed pool holds nothing of its own when it is compared.
        /// </summary>
        private void Settle()
        {
            if (_settled)
            {
                return;
            }

            _settled = true;
            if (Pool.State != PagePoolState.Active)
            {
                SpinWait.SpinUntil(() => Pool.Inflight == Pool.GetOutstandingAllocations().Count, Patience);
            }
        }
    }

    private sealed class ModelPool
    {
        private const int CacheSize = 128;
        private const int RefillBatch = 64;
        private readonly bool[] _lent = Enumerable.Repeat(true, SetupPages).ToArray();
        private int _cache = RefillBatch - SetupPages;
        private int _ring;

        public Outcomes Outcomes { get; } = new();

        public bool Destroyed { get; private set; }

        public int Allocated { get; private set; }

        public int AllocationsRefused { get; private set; }

        public int DestroysRefused { get; private set; }

        public long Hold { get; private set; } = RefillBatch;

        public long Released { get; private set; }

        public long AllocFast { get; private set; } = SetupPages - 1;

        public long AllocSlow { get; private set; } = 1;

        public long AllocRefill { get; private set; }

        public long RecycleCached { get; private set; }

        public long RecycleRing { get; private set; }

        public long LateReturns { get; private set; }

        public int LentCount => _lent.Count(l => l) + Allocated;

        public void Return(int page) => Returning(page, direct: false);

        public void RecycleDirect(int page) => Returning(page, direct: true);

        public void Allocate()
        {
            if (Destroyed)
            {
                AllocationsRefused++;
                return;
            }

            Allocated++;
            if (_cache > 0)
            {
                _cache--;
                AllocFast++;
            }
            else if (_ring > 0)
            {
                int taken = Math.Min(RefillBatch, _ring);
                _ring -= taken;
                _cache = taken - 1;
                AllocRefill++;
            }
            else
            {
                Hold += RefillBatch;
                _cache = RefillBatch - 1;
                AllocSlow++;
            }
        }

        public void Destroy()
        {
            if (Destroyed)
            {
                DestroysRefused++;
                return;
            }

            Released += _cache + _ring;
            _cache = _ring = 0;
            Destroyed = true;
        }

        public override string ToString() =>
            $"{Outcomes}; allocated {Allocated}, refused {AllocationsRefused}; destroyed {Destroyed}/{DestroysRefused}; hold {Hold} release {Released} fast {AllocFast} slow {AllocSlow} refill {AllocRefill} cached {RecycleCached} ring {RecycleRing} late {LateReturns}";

        private void Returning(int page, bool direct)
        {
            if (!_lent[page])
            {
                Outcomes.RefusedAsDouble[page]++;
                return;
            }

            _lent[page] = false;
            Outcomes.Succeeded[page]++;
            if (Destroyed)
            {
                LateReturns++;
                Released++;
            }
            else if (direct && _cache < CacheSize)
            {
                _cache++;
                RecycleCached++;
            }
            else
            {
                _ring++;
                RecycleRing++;
            }
        }
    }
}
