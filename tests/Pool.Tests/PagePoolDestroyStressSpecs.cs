using System.Collections.Concurrent;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Tests.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// Many threads return pages while destroy runs, round after round, with the IOMMU model as the oracle: every map
/// is matched by exactly one unmap made before destroy returned, the device (unbound right after destroy) sees no
/// call, nothing leaks, and every page is accounted until the pool is released.
/// </summary>
public sealed class PagePoolDestroyStressSpecs
{
    private const int RoundsPerVariant = 500;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    // A start signal's wait runs on a bare thread, where a throw ends the test process: only a signal that can never
    // come may end it, never a machine loaded for seconds.
    private static readonly TimeSpan SignalPatience = TimeSpan.FromSeconds(60);

    public enum Variant
    {
        WholePages,
        Fragments,
        SyncForDevice,
        TinyRing,
    }

    [Theory]
    [InlineData(Variant.WholePages)]
    [InlineData(Variant.Fragments)]
    [InlineData(Variant.SyncForDevice)]
    [InlineData(Variant.TinyRing)]
    public async Task Returns_racing_destroy_never_unmap_twice_never_call_the_unbound_device_and_leak_nothing(Variant variant)
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 256 * 4096);
        for (int round = 0; round < RoundsPerVariant; round++)
        {
            await RunRound(variant, round, provider);
        }
    }

    [Fact]
    public async Task Pages_lent_by_the_owner_and_returned_by_other_threads_are_never_owned_twice()
    {
        TestPool t = TestPool.Create(o => o with { PoolSize = 256 });
        var handedOver = new BlockingCollection<NetmemRef>(boundedCapacity: 512);
        long aliased = 0;
        Task[] returners = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            foreach (NetmemRef page in handedOver.GetConsumingEnumerable())
            {
                if (BitConverter.ToUInt64(page.GetSpan()) != page.Value)
                {
                    Interlocked.Increment(ref aliased);
                }

                t.Pool.Return(page);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        for (int i = 0; i < 100_000; i++)
        {
            NetmemRef page = t.Pool.Allocate();
            BitConverter.TryWriteBytes(page.GetSpan(), page.Value);
            if (i % 5 == 0)
            {
                t.Pool.RecycleDirect(page);
            }
            else
            {
                handedOver.Add(page);
            }
        }

        handedOver.CompleteAdding();
        await Task.WhenAll(returners);

        PagePoolStats stats = t.Stats;
        Assert.Equal(0, Interlocked.Read(ref aliased));
        Assert.Empty(t.Pool.GetOutstandingAllocations());
        Assert.Equal(100_000, stats.AllocFast + stats.AllocSlow + stats.AllocRefill);

        // A direct recycle that finds the cache full goes on to the ring, so each return has one final outcome.
        Assert.Equal(100_000, stats.RecycleCached + stats.RecycleRing + stats.RecycleRingFull);
        Assert.Equal(stats.Hold, t.Iommu.MapCalls);
        Assert.Equal(stats.Release, t.Iommu.UnmapCalls);
        Assert.Equal(t.Pool.Inflight, t.Provider.OutstandingPages);
        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(0, report.StillInflight);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
    }

    /// <summary>
    /// Many returners race destroy on every return path at once (ring push racing the state change, ring full, extra
    /// references, fragments), with and without a device; every round's report must partition its inflight exactly,
    /// and the pages held through destroy must be in the term that names them (unmapped with a device, still
    /// inflight without one).
    /// </summary>
    /// <remarks>With a slow sync for the device, returners that read the state just before destroy are still in the
    /// device when destroy drains the ring, so they push their pages after the drain, where the walk unmaps them and
    /// the last drain releases them: a report that counts such a page twice (unmapped and released) fails here.</remarks>
    [Theory]
    [InlineData(PartitionVariant.NoDevice)]
    [InlineData(PartitionVariant.Device)]
    [InlineData(PartitionVariant.SlowSyncForDevice)]
    public async Task Every_destroy_report_partitions_its_inflight_exactly_under_many_racing_returners(PartitionVariant variant)
    {
        bool withDevice = variant != PartitionVariant.NoDevice;
        using var provider = new HostPageProvider(4096, chunkBytes: 256 * 4096);
        for (int round = 0; round < 120; round++)
        {
            var iommu = new IommuModel($"partition-{round}");
            IDmaDevice device = variant == PartitionVariant.SlowSyncForDevice ? new SlowSyncDevice(iommu) : new HesitantDevice(iommu);
            var pool = new PagePool(new PagePoolOptions
            {
                Device = withDevice ? device : null,
                MemoryProvider = provider,
                PoolSize = 4 << (round % 4),
                SyncForDevice = variant == PartitionVariant.SlowSyncForDevice,
                ReleaseRetryInterval = TimeSpan.FromMilliseconds(1),
            });
            var returns = new List<Action>();
            var references = new List<PageReference>();
            int wholePages = 40 + (round % 24);
            for (int i = 0; i < wholePages; i++)
            {
                NetmemRef page = pool.Allocate();
                if (i % 5 == 0)
                {
                    references.Add(pool.AcquirePageReference(page));
                }

                returns.Add(() => pool.Return(page));
            }

            for (int i = 0; i < 9; i++)
            {
                NetmemFragment slice = pool.AllocateFragment(1024);
                returns.Add(() => pool.ReturnFragment(slice));
            }

            // Whole pages held until destroy has returned: each is in the report's term for pages still out.
            List<Action> heldThrough = returns.Where((_, i) => i < wholePages && i % 7 == 3).ToList();
            List<Action> racing = returns.Except(heldThrough).ToList();
            int go = 0;
            long returnedSoFar = 0;
            Thread[] returners = Enumerable.Range(0, 4).Select(r => new Thread(() =>
            {
                SpinUntil(() => Volatile.Read(ref go) == 1);
                if (r % 2 == 1)
                {
                    SpinUntil(() => pool.State != PagePoolState.Active);
                }

                for (int i = r; i < racing.Count; i += 4)
                {
                    racing[i]();
                    Interlocked.Increment(ref returnedSoFar);
                }
            })).ToArray();
            Array.ForEach(returners, t => t.Start());

            // Destroy starts while the immediate returners are in the middle of their returns.
            Volatile.Write(ref go, 1);
            SpinUntil(() => Interlocked.Read(ref returnedSoFar) >= 1 + (round % 4));
            PagePoolDestroyReport report = pool.Destroy();
            iommu.Unbind();
            Array.ForEach(returners, t => t.Join());
            heldThrough.ForEach(r => r());
            references.ForEach(r => r.Dispose());

            string where = $"{variant} round {round}: {string.Join("; ", iommu.Violations.Take(3))}";
            PagePoolDestroyRaceSpecs.AssertPartition(report, where);
            Assert.True(iommu.ViolationCount == 0, where);
            Assert.Equal(0, report.RevokedWithDomain);
            Assert.True((withDevice ? report.UnmappedByDestroy : report.StillInflight) >= heldThrough.Count, $"{where}: {report}");
            Assert.True(report.HeldAtReport >= heldThrough.Count, $"{where}: {report}");
            if (!withDevice)
            {
                Assert.Equal(0, report.UnmappedByDestroy);
            }
            Assert.True(await pool.WaitForReleaseAsync(Patience), $"{where} inflight {pool.Inflight}");
            Assert.Equal(0, provider.OutstandingPages);
            if (withDevice)
            {
                Assert.Equal(iommu.MapCalls, iommu.UnmapCalls);
            }
        }
    }

    public enum PartitionVariant
    {
        NoDevice,
        Device,
        SlowSyncForDevice,
    }

    private static async Task RunRound(Variant variant, int round, HostPageProvider provider)
    {
        var iommu = new IommuModel($"stress-{variant}-{round}");
        var pool = new PagePool(new PagePoolOptions
        {
            Device = new HesitantDevice(iommu),
            MemoryProvider = provider,
            PoolSize = variant == Variant.TinyRing ? 2 << (round % 3) : 64,
            SyncForDevice = variant == Variant.SyncForDevice,
            ReleaseRetryInterval = TimeSpan.FromMilliseconds(1),
        });

        List<Action> returns = Lend(pool, variant, 24 + (round % 48));
        int returnedBeforeDestroy = returns.Count / 4;
        returns.Take(returnedBeforeDestroy).ToList().ForEach(r => r());
        List<Action> racing = returns.Skip(returnedBeforeDestroy).ToList();

        int started = 0;
        var immediate = new Thread(() =>
        {
            SpinUntil(() => Volatile.Read(ref started) == 1);
            for (int i = 0; i < racing.Count; i += 2)
            {
                racing[i]();
            }
        });
        var duringDestroy = new Thread(() =>
        {
            SpinUntil(() => pool.State != PagePoolState.Active);
            for (int i = 1; i < racing.Count; i += 2)
            {
                racing[i]();
            }
        });
        immediate.Start();
        duringDestroy.Start();

        Volatile.Write(ref started, 1);
        PagePoolDestroyReport report = pool.Destroy();
        int leakedAtUnbind = iommu.Unbind();
        immediate.Join();
        duringDestroy.Join();
        bool released = await pool.WaitForReleaseAsync(Patience);

        string where = $"{variant} round {round}: {string.Join("; ", iommu.Violations.Take(5))}";
        Assert.True(leakedAtUnbind == 0, where);
        Assert.True(iommu.CountOf(IommuViolationKind.DoubleUnmap) == 0, where);
        Assert.True(iommu.CountOf(IommuViolationKind.CallAfterUnbind) == 0, where);
        Assert.True(iommu.ViolationCount == 0, where);
        Assert.True(released, $"{where} inflight {pool.Inflight}");

        PagePoolStats stats = pool.GetStats();
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(stats.Hold, iommu.MapCalls);
        Assert.Equal(iommu.MapCalls, iommu.UnmapCalls);
        Assert.Equal(stats.Hold - stats.Release, pool.Inflight);
        Assert.Equal(0, pool.Inflight);
        Assert.Equal(0, provider.OutstandingPages);
        Assert.True(report.InflightAtDestroy >= report.StillInflight);
        Assert.Equal(0, report.RevokedWithDomain);
        PagePoolDestroyRaceSpecs.AssertPartition(report, where);
        if (variant != Variant.Fragments)
        {
            // Each return of a whole page ends in exactly one outcome.
            Assert.Equal(returns.Count, stats.RecycleRing + stats.RecycleRingFull + stats.LateReturns);
        }
    }

    private static List<Action> Lend(PagePool pool, Variant variant, int count)
    {
        var returns = new List<Action>();
        if (variant == Variant.Fragments)
        {
            int[] lengths = [256, 1024, 2048, 700];
            for (int i = 0; i < count * 3; i++)
            {
                NetmemFragment slice = pool.AllocateFragment(lengths[i % lengths.Length]);
                returns.Add(() => pool.ReturnFragment(slice));
            }

            return returns;
        }

        for (int i = 0; i < count; i++)
        {
            NetmemRef page = pool.Allocate();
            returns.Add(() => pool.Return(page));
        }

        return returns;
    }

    private static void SpinUntil(Func<bool> condition)
    {
        if (!SpinWait.SpinUntil(condition, SignalPatience))
        {
            throw new TimeoutException("The round's start signal never came.");
        }
    }
}
