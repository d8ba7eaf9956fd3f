using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolFragmentSpecs
{
    [Theory]
    [InlineData(256, 16)]
    [InlineData(1024, 4)]
    [InlineData(2048, 2)]
    [InlineData(100, 32)]
    public void Slices_of_one_page_never_overlap_and_each_is_writable(int length, int slicesPerPage)
    {
        TestPool t = TestPool.Create();
        var slices = new List<NetmemFragment>();
        for (int i = 0; i < slicesPerPage; i++)
        {
            slices.Add(t.Pool.AllocateFragment(length));
        }

        Assert.Single(slices.Select(s => s.Page).Distinct());
        for (int i = 0; i < slices.Count; i++)
        {
            Assert.Equal(length, slices[i].GetSpan().Length);
            slices[i].GetSpan().Fill((byte)(i + 1));
        }

        for (int i = 0; i < slices.Count; i++)
        {
            Assert.All(slices[i].GetSpan().ToArray(), b => Assert.Equal((byte)(i + 1), b));
            for (int j = i + 1; j < slices.Count; j++)
            {
                bool disjoint = slices[i].Offset + slices[i].Length <= slices[j].Offset || slices[j].Offset + slices[j].Length <= slices[i].Offset;
                Assert.True(disjoint, $"{slices[i]} overlaps {slices[j]}");
            }
        }

        NetmemFragment next = t.Pool.AllocateFragment(length);
        Assert.NotEqual(slices[0].Page, next.Page);
        Assert.Equal(0, next.Offset);
        foreach (NetmemFragment slice in slices.Append(next))
        {
            t.Pool.ReturnFragment(slice);
        }

        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_fragmented_page_recycles_only_after_its_last_slice_returns()
    {
        TestPool t = TestPool.Create();
        NetmemFragment a = t.Pool.AllocateFragment(2048);
        NetmemFragment b = t.Pool.AllocateFragment(2048);
        NetmemFragment onNextPage = t.Pool.AllocateFragment(2048);
        Assert.Equal(a.Page, b.Page);
        Assert.NotEqual(a.Page, onNextPage.Page);

        t.Pool.ReturnFragment(a);
        Assert.Equal(0, t.Stats.RecycleRing);
        Assert.Single(t.Pool.GetOutstandingAllocations(), o => o.Netmem == a.Page);
        Assert.Equal(0xCC, b.GetSpan()[0] = 0xCC);

        t.Pool.ReturnFragment(b);
        Assert.Equal(1, t.Stats.RecycleRing);
        Assert.DoesNotContain(t.Pool.GetOutstandingAllocations(), o => o.Netmem == a.Page);
        Assert.Throws<UseAfterReturnException>(() => b.GetSpan());
        t.Pool.ReturnFragment(onNextPage);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void A_slice_returned_directly_by_the_owner_recycles_its_page_into_the_cache()
    {
        TestPool t = TestPool.Create();
        NetmemFragment a = t.Pool.AllocateFragment(4096);
        NetmemFragment next = t.Pool.AllocateFragment(4096);

        t.Pool.ReturnFragmentDirect(a);

        Assert.Equal(1, t.Stats.RecycleCached);
        Assert.Equal(0, t.Stats.RecycleRing);
        t.Pool.ReturnFragmentDirect(next);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void When_every_slice_is_back_before_carving_stops_the_owner_recycles_the_page_as_it_moves_on()
    {
        TestPool t = TestPool.Create();
        NetmemFragment first = t.Pool.AllocateFragment(2048);
        t.Pool.ReturnFragment(first);
        Assert.Equal(0, t.Stats.RecycleRing + t.Stats.RecycleCached);

        NetmemFragment whole = t.Pool.AllocateFragment(4096);

        Assert.Equal(1, t.Stats.RecycleCached);
        Assert.Equal(first.Page.ItemId, whole.Page.ItemId);
        Assert.Equal(first.Page.Generation + 1, whole.Page.Generation);
        Assert.Throws<DoubleReturnException>(() => t.Pool.ReturnFragment(first));
        t.Pool.ReturnFragment(whole);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Destroy_releases_the_page_being_carved_when_its_slices_are_all_back()
    {
        TestPool t = TestPool.Create();
        NetmemFragment slice = t.Pool.AllocateFragment(512);
        t.Pool.ReturnFragment(slice);

        PagePoolDestroyReport report = t.DestroyAndUnbind();

        Assert.Equal(64, report.ReleasedFromCache);
        Assert.Equal(0, t.Stats.LateReturns);
        Assert.Equal(0, report.UnmappedByDestroy);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(0, t.Provider.OutstandingPages);
    }

    [Fact]
    public void Destroy_unmaps_a_page_whose_slices_are_still_held_and_its_last_slice_frees_it_later()
    {
        TestPool t = TestPool.Create();
        NetmemFragment a = t.Pool.AllocateFragment(1024);
        NetmemFragment b = t.Pool.AllocateFragment(1024);

        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(1, report.UnmappedByDestroy);
        Assert.Equal(0, report.StillInflight);
        Assert.Equal(1, report.HeldAtReport);
        Assert.Throws<PoolDestroyedException>(() => t.Pool.AllocateFragment(1024));

        t.Pool.ReturnFragment(a);
        Assert.Equal(PagePoolState.Detached, t.Pool.State);
        t.Pool.ReturnFragment(b);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(1, t.Stats.LateReturns);
        Assert.Equal(0, t.Provider.OutstandingPages);
        Assert.Empty(t.Iommu.Violations);
    }

    [Fact]
    public void Slices_returned_from_many_threads_recycle_each_page_exactly_once()
    {
        TestPool t = TestPool.Create();
        var slices = new List<NetmemFragment>();
        for (int i = 0; i < 16 * 200; i++)
        {
            slices.Add(t.Pool.AllocateFragment(256));
        }

        Parallel.ForEach(slices, new ParallelOptions { MaxDegreeOfParallelism = 4 }, s => s.ReturnToPool());

        Assert.Equal(199, t.Stats.RecycleRing);
        Assert.Single(t.Pool.GetOutstandingAllocations());
        t.DestroyAndUnbind();
        Assert.Equal(PagePoolState.Released, t.Pool.State);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(4097)]
    public void A_slice_length_outside_the_page_is_refused(int length)
    {
        TestPool t = TestPool.Create();
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Pool.AllocateFragment(length));
        Assert.Equal(0, t.Stats.Hold);
    }

    [Fact]
    public void Slices_of_unreadable_memory_have_no_span()
    {
        var pool = new PagePool(new PagePoolOptions { MemoryProvider = new DeviceMemoryProvider(8), Device = new IommuModel("devmem") });
        NetmemFragment slice = pool.AllocateFragment(1024);

        Assert.Throws<UnreadableNetmemException>(() => slice.GetSpan());
        pool.ReturnFragment(slice);
        pool.Destroy();
        Assert.Equal(PagePoolState.Released, pool.State);
    }
}
