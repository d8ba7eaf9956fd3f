using System.Collections.Concurrent;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Netmem.Pool.Tests.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// The per-thread recycle rings under load: many returning threads, most of them short-lived (so thread numbers, and
/// the rings that go with them, pass from exited threads to new ones while pages may still sit in them), an owner
/// allocating and refilling from every ring, and destroy racing all of them from another thread. The oracle: every
/// page the owner got is returned exactly once and never owned by two parties at once, every return has exactly one
/// outcome, the IOMMU sees one unmap per map and no call after destroy, and the pool is released with nothing left.
/// </summary>
public sealed class PagePoolRecycleRingStressSpecs
{
    private const int Rounds = 50;
    private const int Lanes = 6;
    private const int PagesPerRound = 3000;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Pages_returned_by_many_threads_while_the_owner_allocates_and_destroy_races_are_each_accounted_exactly_once()
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 256 * 4096);
        for (int round = 0; round < Rounds; round++)
        {
            await RunRound(round, provider);
        }
    }

    private static async Task RunRound(int round, HostPageProvider provider)
    {
        var iommu = new IommuModel($"rings-{round}");
        var pool = new PagePool(new PagePoolOptions
        {
            Device = new HesitantDevice(iommu),
            MemoryProvider = provider,
            PoolSize = 4 << (round % 4),
            ReleaseRetryInterval = TimeSpan.FromMilliseconds(1),
        });
        var work = new Round(pool, pagesPerThread: 16 + (round % 5 * 40));

        Thread[] lanes = Enumerable.Range(0, Lanes).Select(lane => new Thread(() => work.ServeLane(lane))).ToArray();
        var owner = new Thread(work.Own);
        Array.ForEach(lanes, thread => thread.Start());
        owner.Start();

        // Destroy from another thread while the owner is still allocating and the returners are returning.
        int destroyAfter = 100 + (round * 97 % (PagesPerRound - 200));
        SpinWait.SpinUntil(() => Volatile.Read(ref work.Allocated) >= destroyAfter || !owner.IsAlive, Patience);
        PagePoolDestroyReport report = pool.Destroy();
        int leakedAtUnbind = iommu.Unbind();
        owner.Join();
        Array.ForEach(lanes, thread => thread.Join());
        bool released = await pool.WaitForReleaseAsync(Patience);

        string where = $"round {round}: {string.Join("; ", iommu.Violations.Take(3))} {string.Join("; ", work.Failures.Take(3))}";
        Assert.True(work.Failures.IsEmpty, where);
        Assert.True(work.Aliased == 0, $"{where}: {work.Aliased} pages were owned by two parties at once");
        Assert.Equal(work.Allocated, work.Returned);
        Assert.True(leakedAtUnbind == 0, where);
        Assert.True(iommu.ViolationCount == 0, where);
        Assert.True(released, $"{where}: inflight {pool.Inflight}");

        PagePoolStats stats = pool.GetStats();
        Assert.Equal(work.Allocated, stats.AllocFast + stats.AllocSlow + stats.AllocRefill);
        Assert.Equal(work.Allocated, stats.RecycleCached + stats.RecycleRing + stats.RecycleRingFull + stats.LateReturns);
        Assert.Equal(stats.Hold, stats.Release);
        Assert.Equal(stats.Hold, iommu.MapCalls);
        Assert.Equal(iommu.MapCalls, iommu.UnmapCalls);
        Assert.Equal(0, provider.OutstandingPages);
        PagePoolDestroyRaceSpecs.AssertPartition(report, where);
    }

    /// <summary>One round's owner and returners; the counters are read after every thread of the round has been joined.</summary>
    private sealed class Round(PagePool pool, int pagesPerThread)
    {
        private readonly BlockingCollection<NetmemRef>[] _lanes = Enumerable.Range(0, Lanes).Select(_ => new BlockingCollection<NetmemRef>()).ToArray();
        public int Allocated;
        public long Returned;
        public long Aliased;

        public ConcurrentQueue<Exception> Failures { get; } = new();

        /// <summary>
        /// The owner: allocates, stamps each page with its handle, recycles every seventh directly and deals the rest
        /// to the lanes, until destroy refuses it.
        /// </summary>
        public void Own()
        {
            try
            {
                for (int i = 0; i < PagesPerRound; i++)
                {
                    NetmemRef page = pool.Allocate();
                    BitConverter.TryWriteBytes(page.GetSpan(), page.Value);
                    Volatile.Write(ref Allocated, Allocated + 1);
                    if (i % 7 == 0)
                    {
                        pool.RecycleDirect(page);
                        Interlocked.Increment(ref Returned);
                    }
                    else
                    {
                        _lanes[i % Lanes].Add(page);
                    }
                }
            }
            catch (PoolDestroyedException)
            {
            }
            catch (Exception exception)
            {
                Failures.Enqueue(exception);
            }
            finally
            {
                Array.ForEach(_lanes, lane => lane.CompleteAdding());
            }
        }

        /// <summary>
        /// A lane is served by a chain of threads, each returning up to <c>pagesPerThread</c> pages and exiting. Lane 0
        /// collects after each of its threads, so numbers are handed on while their rings may still hold pages.
        /// </summary>
        public void ServeLane(int lane)
        {
            bool more = true;
            while (more)
            {
                var worker = new Thread(() => more = ReturnPages(_lanes[lane]));
                worker.Start();
                worker.Join();
                if (lane == 0)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
            }
        }

        /// <summary>Returns up to <c>pagesPerThread</c> pages of the lane; false once the lane is finished.</summary>
        private bool ReturnPages(BlockingCollection<NetmemRef> lane)
        {
            for (int served = 0; served < pagesPerThread; served++)
            {
                if (!lane.TryTake(out NetmemRef page, Timeout.Infinite))
                {
                    return false;
                }

                try
                {
                    if (BitConverter.ToUInt64(page.GetSpan()) != page.Value)
                    {
                        Interlocked.Increment(ref Aliased);
                    }

                    pool.Return(page);
                    Interlocked.Increment(ref Returned);
                }
                catch (Exception exception)
                {
                    Failures.Enqueue(exception);
                }
            }

            return true;
        }
    }
}
