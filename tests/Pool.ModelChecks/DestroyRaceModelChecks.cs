using Microsoft.Coyote.Specifications;
using Netmem.Pool.Dma;
using Netmem.Pool.Misuse;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// The destroy race of <c>PagePool.Destroy.cs</c> under systematic interleaving: returners race destroy, and the
/// device is unbound the instant destroy returns, so any device call made after destroy is a recorded violation.
/// </summary>
[Collection(nameof(CoyoteCollection))]
public sealed class DestroyRaceModelChecks
{
    [Fact]
    public void Returns_racing_destroy_unmap_every_page_exactly_once_and_never_call_the_device_after_destroy() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote");
            PagePool pool = NewPool(iommu, syncForDevice: false);
            NetmemRef[] held = AllocateHeld(pool, 3);

            await DestroyRacing(pool, iommu, held.Select(page => (Action)(() => pool.Return(page))));
            AssertCleanRelease(pool, iommu);
        });

    [Fact]
    public void A_release_racing_destroy_either_unmaps_before_destroy_returns_or_leaves_the_unmap_to_destroy() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote-release");
            PagePool pool = NewPool(iommu, syncForDevice: false);
            NetmemRef page = pool.Allocate();
            PageReference extra = pool.AcquirePageReference(page);

            await DestroyRacing(pool, iommu, [() => pool.Return(page)]);

            extra.Dispose();
            AssertCleanRelease(pool, iommu);
        }, iterations: 5000);

    [Fact]
    public void Recycling_with_sync_for_device_racing_destroy_never_syncs_an_unmapped_page() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote-sync");
            PagePool pool = NewPool(iommu, syncForDevice: true);
            NetmemRef[] held = AllocateHeld(pool, 2);

            await DestroyRacing(pool, iommu, held.Select(page => (Action)(() => pool.Return(page))));
            AssertCleanRelease(pool, iommu);
        });

    [Fact]
    public void Cpu_syncs_and_releases_racing_destroy_never_reach_the_device_after_it_and_never_under_an_unmap() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote-cpu-sync");
            PagePool pool = NewPool(iommu, syncForDevice: false);
            NetmemRef[] held = AllocateHeld(pool, 2);

            await DestroyRacing(pool, iommu, [() => pool.SyncForCpu(held[0], 0, 64), () => pool.Return(held[1])]);
            pool.Return(held[0]);
            AssertCleanRelease(pool, iommu);
        }, iterations: 1000);

    [Fact]
    public void Racing_returns_of_one_handle_let_exactly_one_through() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote-double");
            PagePool pool = NewPool(iommu, syncForDevice: false);
            NetmemRef page = pool.Allocate();
            int refused = 0;

            Task[] returners = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                try
                {
                    pool.Return(page);
                }
                catch (DoubleReturnException)
                {
                    Interlocked.Increment(ref refused);
                }
            })).ToArray();
            await Task.WhenAll(returners);

            Specification.Assert(refused == 1, $"{refused} of 2 racing returns were refused; exactly 1 must be.");
            pool.Destroy();
            iommu.Unbind();
            AssertCleanRelease(pool, iommu);
        });

    [Fact]
    public void Racing_returns_of_the_last_fragments_recycle_the_page_exactly_once() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote-frag");
            PagePool pool = NewPool(iommu, syncForDevice: false);
            NetmemFragment[] slices = [pool.AllocateFragment(1024), pool.AllocateFragment(1024), pool.AllocateFragment(2048)];

            await DestroyRacing(pool, iommu, slices.Select(slice => (Action)(() => pool.ReturnFragment(slice))));
            AssertCleanRelease(pool, iommu);
        });

    /// <summary>Runs the racers and a destroyer that unbinds the device the instant destroy returns.</summary>
    private static Task DestroyRacing(PagePool pool, IommuModel iommu, IEnumerable<Action> racers)
    {
        Task destroyer = Task.Run(() =>
        {
            pool.Destroy();
            iommu.Unbind();
        });
        return Task.WhenAll([.. racers.Select(racer => Task.Run(racer)), destroyer]);
    }

    private static PagePool NewPool(IommuModel iommu, bool syncForDevice) =>
        new(new PagePoolOptions
        {
            Device = iommu,
            PoolSize = 2,
            SyncForDevice = syncForDevice,
            MemoryProvider = PrefilledProvider(),
            ReleaseRetryInterval = TimeSpan.FromHours(1),
        });

    // Every page exists before the race starts, so the provider's lock never sits across a scheduling point.
    private static Memory.HostPageProvider PrefilledProvider()
    {
        var provider = new Memory.HostPageProvider(chunkBytes: 8 * 4096, maxPages: 8);
        Assert.True(provider.TryAllocatePage(out ulong page));
        provider.ReleasePage(page);
        return provider;
    }

    private static NetmemRef[] AllocateHeld(PagePool pool, int count)
    {
        NetmemRef[] held = Enumerable.Range(0, count).Select(_ => pool.Allocate()).ToArray();
        pool.RecycleDirect(pool.Allocate());
        return held;
    }

    private static void AssertCleanRelease(PagePool pool, IommuModel iommu)
    {
        pool.RetryRelease();
        PagePoolStats stats = pool.GetStats();
        Specification.Assert(iommu.ViolationCount == 0, string.Join("; ", iommu.Violations.Select(v => $"{v.Kind}: {v.Detail}")));
        Specification.Assert(iommu.MapCalls == iommu.UnmapCalls, $"{iommu.MapCalls} maps but {iommu.UnmapCalls} unmaps.");
        Specification.Assert(stats.Inflight == 0 && stats.Hold == stats.Release, $"hold {stats.Hold}, release {stats.Release}.");
        Specification.Assert(pool.State == PagePoolState.Released, $"pool is {pool.State}.");
    }
}
