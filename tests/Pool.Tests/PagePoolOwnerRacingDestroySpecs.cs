using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Netmem.Pool.Tests.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// Destroy racing an owner that has not stopped: a driver that hung past its quiesce timeout and is destroyed
/// anyway. The owner keeps allocating, recycling directly and carving fragments while another thread destroys; the
/// IOMMU model is the oracle, unbound the instant destroy returns. Destroy must wait the owner out of its current
/// operation and refuse it from then on, so the two never work on the alloc cache, the ring's consumer side or the
/// fragment page at the same time.
/// </summary>
public sealed class PagePoolOwnerRacingDestroySpecs
{
    private const int Rounds = 400;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task An_owner_still_allocating_while_another_thread_destroys_is_refused_cleanly_and_nothing_is_lost_or_unmapped_twice()
    {
        using var provider = new HostPageProvider(4096, chunkBytes: 256 * 4096);
        for (int round = 0; round < Rounds; round++)
        {
            await RunRound(round, provider);
        }
    }

    private static async Task RunRound(int round, HostPageProvider provider)
    {
        var iommu = new IommuModel($"owner-race-{round}");
        var pool = new PagePool(new PagePoolOptions
        {
            Device = new HesitantDevice(iommu),
            MemoryProvider = provider,
            PoolSize = 16,
            ReleaseRetryInterval = TimeSpan.FromMilliseconds(1),
        });

        var heldPages = new List<NetmemRef>();
        var heldSlices = new List<NetmemFragment>();
        Exception? ownerFailure = null;
        int started = 0;
        var owner = new Thread(() =>
        {
            try
            {
                Volatile.Write(ref started, 1);
                RunOwnerUntilRefused(pool, round, heldPages, heldSlices);
            }
            catch (Exception e)
            {
                ownerFailure = e;
            }
        });
        owner.Start();
        SpinWait.SpinUntil(() => Volatile.Read(ref started) == 1);
        Thread.SpinWait(round % 40 * 100);

        PagePoolDestroyReport report = pool.Destroy();
        int leakedAtUnbind = iommu.Unbind();
        owner.Join();

        string where = $"round {round}: {string.Join("; ", iommu.Violations.Take(5))}";
        Assert.True(ownerFailure is null, $"{where}: the owner failed with {ownerFailure}");
        Assert.True(leakedAtUnbind == 0, where);
        Assert.True(iommu.ViolationCount == 0, where);

        // Every page the owner still holds carries the tag it wrote: no page was lent twice.
        foreach (NetmemRef page in heldPages)
        {
            Assert.Equal(page.Value, BitConverter.ToUInt64(page.GetSpan()));
            pool.Return(page);
        }

        heldSlices.ForEach(pool.ReturnFragment);
        Assert.True(await pool.WaitForReleaseAsync(Patience), $"{where}: inflight {pool.Inflight}");
        PagePoolStats stats = pool.GetStats();
        Assert.Equal(stats.Hold, iommu.MapCalls);
        Assert.Equal(iommu.MapCalls, iommu.UnmapCalls);
        Assert.Equal(0, provider.OutstandingPages);
        Assert.True(report.InflightAtDestroy >= report.StillInflight);
    }

    /// <summary>Allocates, recycles, holds and carves until the pool refuses an allocation.</summary>
    private static void RunOwnerUntilRefused(PagePool pool, int round, List<NetmemRef> heldPages, List<NetmemFragment> heldSlices)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                if ((i + round) % 5 == 0)
                {
                    NetmemFragment slice = pool.AllocateFragment(1024);
                    if (i % 2 == 0)
                    {
                        pool.ReturnFragmentDirect(slice);
                    }
                    else
                    {
                        heldSlices.Add(slice);
                    }

                    continue;
                }

                NetmemRef page = pool.Allocate();
                BitConverter.TryWriteBytes(page.GetSpan(), page.Value);
                if (i % 3 == 0 && heldPages.Count < 200)
                {
                    heldPages.Add(page);
                }
                else
                {
                    pool.RecycleDirect(page);
                }
            }
            catch (PoolDestroyedException)
            {
                return;
            }
        }
    }
}
