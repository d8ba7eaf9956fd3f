using Netmem.Pool.Core;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests.Core;

/// <summary>The table is process-wide; these specs watch which block a pool gets, so they run alone.</summary>
[CollectionDefinition(nameof(ItemBlockTableSpecs), DisableParallelization = true)]
public sealed class ItemBlockTableCollection;

[Collection(nameof(ItemBlockTableSpecs))]
public sealed class ItemBlockTableSpecs
{
    [Fact]
    public void An_untrusted_index_outside_the_table_finds_no_block()
    {
        Assert.Null(ItemBlockTable.TryGet(-1));
        Assert.Null(ItemBlockTable.TryGet(ItemBlockTable.MaxBlocks));
        Assert.Null(ItemBlockTable.TryGet(int.MaxValue));
    }

    [Fact]
    public void A_released_pool_gives_its_blocks_back_and_the_next_pool_reuses_them()
    {
        var first = new PagePool(new PagePoolOptions());
        NetmemRef page = first.Allocate();
        ItemBlock block = ItemBlockTable.Get(page.BlockIndex);
        Assert.Same(first, block.Owner);
        first.Return(page);
        first.Destroy();

        Assert.Null(block.Owner);
        var second = new PagePool(new PagePoolOptions());
        NetmemRef reused = second.Allocate();

        Assert.Equal(page.BlockIndex, reused.BlockIndex);
        Assert.Same(second, block.Owner);
        second.Return(reused);
        second.Destroy();
    }

    [Fact]
    public void A_mapping_leaked_by_an_untracked_pool_is_never_unmapped_by_the_next_owner_of_its_block()
    {
        var untrackedDevice = new IommuModel("untracked");
        var untracked = new PagePool(new PagePoolOptions { Device = untrackedDevice, TrackInflight = false });
        NetmemRef held = untracked.Allocate();
        untracked.Destroy();
        untracked.Return(held);
        Assert.Equal(PagePoolState.Released, untracked.State);
        ItemBlock block = ItemBlockTable.Get(held.BlockIndex);
        Assert.All(((ReadOnlySpan<PageMetadata>)block.Pages).ToArray(), page => Assert.Equal(0, page.Mapped));

        var device = new IommuModel("tracked");
        var tracked = new PagePool(new PagePoolOptions { Device = device });
        NetmemRef page = tracked.Allocate();
        Assert.Equal(held.BlockIndex, page.BlockIndex);
        tracked.Destroy();
        Assert.Equal(0, device.Unbind());
        tracked.Return(page);

        Assert.Empty(device.Violations);
        Assert.Equal(64, device.UnmapCalls);
    }

    [Fact]
    public void A_released_pool_lists_no_outstanding_pages_once_its_blocks_serve_another_pool()
    {
        var first = new PagePool(new PagePoolOptions());
        NetmemRef returned = first.Allocate();
        first.Return(returned);
        first.Destroy();
        Assert.Equal(PagePoolState.Released, first.State);

        var second = new PagePool(new PagePoolOptions());
        NetmemRef lent = second.Allocate();

        Assert.Equal(returned.BlockIndex, lent.BlockIndex);
        Assert.Empty(first.GetOutstandingAllocations());
        Assert.Single(second.GetOutstandingAllocations());
        second.Return(lent);
        second.Destroy();
    }
}
