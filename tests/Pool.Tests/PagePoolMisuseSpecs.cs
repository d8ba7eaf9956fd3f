using CsCheck;
using Netmem.Pool.Core;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolMisuseSpecs
{
    [Fact]
    public void A_double_return_is_refused_and_leaves_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        NetmemRef held = t.Pool.Allocate();
        t.Pool.Return(page);

        RefusedWithoutEffect<DoubleReturnException>(t, () => t.Pool.Return(page), MisuseKind.DoubleReturn);
        RefusedWithoutEffect<DoubleReturnException>(t, () => t.Pool.RecycleDirect(page), MisuseKind.DoubleReturn);
        RefusedWithoutEffect<DoubleReturnException>(t, () => page.ReturnToPool(), MisuseKind.DoubleReturn);

        KeepsWorking(t, held);
    }

    [Fact]
    public void A_return_to_the_wrong_pool_is_refused_and_leaves_both_pools_intact()
    {
        TestPool owner = TestPool.Create();
        TestPool other = TestPool.Create();
        NetmemRef page = owner.Pool.Allocate();
        NetmemRef otherPage = other.Pool.Allocate();
        PoolSnapshot ownerBefore = PoolSnapshot.Of(owner);

        RefusedWithoutEffect<WrongPoolException>(other, () => other.Pool.Return(page), MisuseKind.WrongPool);
        RefusedWithoutEffect<WrongPoolException>(other, () => other.Pool.RecycleDirect(page), MisuseKind.WrongPool);
        RefusedWithoutEffect<WrongPoolException>(other, () => other.Pool.GetSpan(page), MisuseKind.WrongPool);

        Assert.Equal(ownerBefore, PoolSnapshot.Of(owner));
        page.GetSpan()[0] = 7;
        KeepsWorking(owner, page);
        KeepsWorking(other, otherPage);
    }

    [Fact]
    public void A_default_handle_is_refused_everywhere_and_leaves_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        NetmemRef none = default;

        Assert.True(none.IsDefault);
        Assert.Null(none.Pool);
        RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.Return(none), MisuseKind.InvalidHandle);
        RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.RecycleDirect(none), MisuseKind.InvalidHandle);
        RefusedWithoutEffect<InvalidNetmemException>(t, () => none.ReturnToPool(), MisuseKind.InvalidHandle);
        RefusedWithoutEffect<InvalidNetmemException>(t, () => none.GetSpan(), MisuseKind.InvalidHandle);
        RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.GetDmaAddress(none), MisuseKind.InvalidHandle);

        KeepsWorking(t, held);
    }

    [Fact]
    public void Handles_forged_from_malformed_bits_are_refused_as_invalid_and_leave_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        ulong real = held.Value;
        int blocksBeyondTable = ItemBlockTable.CreatedBlocks + 1024;
        NetmemRef[] forged =
        [
            NetmemRef.FromValue(real | 0x8000_0000UL),                         // bit 31 is never set in a real handle
            NetmemRef.FromValue(real & 0x8000_0000_FFFF_FFFFUL),              // generation 0 is never lent
            NetmemRef.FromValue(real ^ (1UL << 63)),                          // wrong memory kind
            NetmemRef.FromValue(real + (5UL << 32)),                          // a lending that has not happened yet
            NetmemRef.FromValue(((ulong)blocksBeyondTable << ItemBlock.IndexBits) | (1UL << 32)),
        ];

        foreach (NetmemRef handle in forged)
        {
            RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.Return(handle), MisuseKind.InvalidHandle);
        }

        KeepsWorking(t, held);
    }

    [Fact]
    public void Handles_forged_from_random_bits_are_always_refused_and_leave_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        PoolSnapshot before = PoolSnapshot.Of(t);

        Gen.ULong.Where(v => v != held.Value).Sample(bits =>
        {
            NetmemRef forged = NetmemRef.FromValue(bits);
            NetmemMisuseException refused = Assert.ThrowsAny<NetmemMisuseException>(() => t.Pool.Return(forged));
            bool namesNoBlock = (bits & 0x8000_0000UL) != 0 || forged.Generation == 0 || forged.BlockIndex >= ItemBlockTable.CreatedBlocks;
            return !namesNoBlock || refused is InvalidNetmemException;
        }, iter: 20_000, threads: 1);

        Assert.Equal(before, PoolSnapshot.Of(t));
        KeepsWorking(t, held);
    }

    [Fact]
    public void Using_a_returned_handle_is_refused_and_leaves_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        NetmemRef held = t.Pool.Allocate();
        t.Pool.Return(page);

        RefusedWithoutEffect<UseAfterReturnException>(t, () => page.GetSpan(), MisuseKind.UseAfterReturn);
        RefusedWithoutEffect<UseAfterReturnException>(t, () => t.Pool.GetDmaAddress(page), MisuseKind.UseAfterReturn);
        RefusedWithoutEffect<UseAfterReturnException>(t, () => t.Pool.SyncForCpu(page, 0, 64), MisuseKind.UseAfterReturn);
        RefusedWithoutEffect<UseAfterReturnException>(t, () => t.Pool.AcquirePageReference(page), MisuseKind.UseAfterReturn);

        KeepsWorking(t, held);
    }

    [Fact]
    public void A_stale_handle_whose_page_was_lent_again_cannot_touch_the_new_lending()
    {
        TestPool t = TestPool.Create();
        NetmemRef stale = t.Pool.Allocate();
        t.Pool.RecycleDirect(stale);
        NetmemRef current = t.Pool.Allocate();
        Assert.Equal(stale.ItemId, current.ItemId);
        current.GetSpan().Fill(0x42);

        RefusedWithoutEffect<DoubleReturnException>(t, () => t.Pool.Return(stale), MisuseKind.DoubleReturn);
        RefusedWithoutEffect<UseAfterReturnException>(t, () => stale.GetSpan(), MisuseKind.UseAfterReturn);

        Assert.All(current.GetSpan().ToArray(), b => Assert.Equal(0x42, b));
        KeepsWorking(t, current);
    }

    [Fact]
    public void A_stale_handle_is_refused_after_its_pool_was_released()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        t.Pool.Return(page);
        t.DestroyAndUnbind();
        Assert.Equal(PagePoolState.Released, t.Pool.State);

        Assert.Throws<DoubleReturnException>(() => t.Pool.Return(page));
        Assert.ThrowsAny<NetmemMisuseException>(() => page.ReturnToPool());
        Assert.Equal(0, t.Pool.Inflight);
        Assert.Equal(0, t.Provider.OutstandingPages);
    }

    [Fact]
    public void Allocating_from_a_destroyed_pool_is_refused_and_leaves_it_intact()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        t.Pool.Destroy();

        RefusedWithoutEffect<PoolDestroyedException>(t, () => t.Pool.Allocate(), MisuseKind.AllocationAfterDestroy);
        RefusedWithoutEffect<PoolDestroyedException>(t, () => t.Pool.AllocateFragment(512), MisuseKind.AllocationAfterDestroy);

        t.Pool.Return(held);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
    }

    [Fact]
    public void A_second_destroy_is_refused_and_leaves_the_first_report_standing()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        PagePoolDestroyReport report = t.Pool.Destroy();

        RefusedWithoutEffect<PoolAlreadyDestroyedException>(t, () => t.Pool.Destroy(), MisuseKind.DestroyTwice);

        Assert.Equal(report.DetachTime, t.Stats.DetachTime);
        Assert.Equal(1, t.Stats.UnmappedByDestroy);
        t.Pool.Return(held);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        RefusedWithoutEffect<PoolAlreadyDestroyedException>(t, () => t.Pool.Destroy(), MisuseKind.DestroyTwice);
    }

    [Fact]
    public void A_double_return_of_a_slice_is_refused_and_leaves_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemFragment a = t.Pool.AllocateFragment(1024);
        NetmemFragment b = t.Pool.AllocateFragment(1024);
        t.Pool.ReturnFragment(a);

        RefusedWithoutEffect<DoubleReturnException>(t, () => t.Pool.ReturnFragment(a), MisuseKind.DoubleReturn);
        RefusedWithoutEffect<DoubleReturnException>(t, () => a.ReturnToPool(), MisuseKind.DoubleReturn);
        RefusedWithoutEffect<UseAfterReturnException>(t, () => a.GetSpan(), MisuseKind.UseAfterReturn);

        b.GetSpan().Fill(1);
        t.Pool.ReturnFragment(b);
        KeepsWorking(t, t.Pool.Allocate());
    }

    [Fact]
    public void A_fragmented_page_returned_whole_is_refused_and_leaves_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemFragment slice = t.Pool.AllocateFragment(1024);

        RefusedWithoutEffect<FragmentMismatchException>(t, () => t.Pool.Return(slice.Page), MisuseKind.FragmentMismatch);
        RefusedWithoutEffect<FragmentMismatchException>(t, () => t.Pool.RecycleDirect(slice.Page), MisuseKind.FragmentMismatch);

        t.Pool.ReturnFragment(slice);
        KeepsWorking(t, t.Pool.Allocate());
    }

    [Fact]
    public void A_whole_page_returned_as_a_slice_is_refused_and_leaves_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();

        RefusedWithoutEffect<FragmentMismatchException>(t, () => t.Pool.ReturnFragment(new NetmemFragment(page, 0, 1024)), MisuseKind.FragmentMismatch);

        KeepsWorking(t, page);
    }

    [Fact]
    public void A_slice_with_forged_bounds_is_refused_as_invalid_and_leaves_the_pool_intact()
    {
        TestPool t = TestPool.Create();
        NetmemFragment slice = t.Pool.AllocateFragment(1024);

        NetmemFragment[] forged = [slice with { Offset = 5 }, slice with { Length = 0 }, slice with { Offset = 4096 - 128, Length = 256 }, slice with { Offset = -128 }];
        foreach (NetmemFragment fragment in forged)
        {
            RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.ReturnFragment(fragment), MisuseKind.InvalidHandle);
        }

        t.Pool.ReturnFragment(slice);
        KeepsWorking(t, t.Pool.Allocate());
    }

    [Fact]
    public void A_handle_forged_ahead_of_its_page_is_invalid_on_every_accessor_as_on_return()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        NetmemRef recycled = t.Pool.Allocate();
        t.Pool.RecycleDirect(recycled);
        NetmemRef[] forged =
        [
            NetmemRef.FromValue(held.Value + (5UL << 32)),      // a lending five generations from now
            NetmemRef.FromValue(held.Value + (1UL << 32)),      // the next lending of a page that is lent now
            NetmemRef.FromValue(recycled.Value + (1UL << 32)),  // the next lending of a cached page, not yet made
        ];

        foreach (NetmemRef handle in forged)
        {
            RefusedWithoutEffect<InvalidNetmemException>(t, () => handle.GetSpan(), MisuseKind.InvalidHandle);
            RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.GetSpan(handle), MisuseKind.InvalidHandle);
            RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.GetDmaAddress(handle), MisuseKind.InvalidHandle);
            RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.SyncForCpu(handle, 0, 64), MisuseKind.InvalidHandle);
            RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.AcquirePageReference(handle), MisuseKind.InvalidHandle);
            RefusedWithoutEffect<InvalidNetmemException>(t, () => new NetmemFragment(handle, 0, 1024).GetSpan(), MisuseKind.InvalidHandle);
            RefusedWithoutEffect<InvalidNetmemException>(t, () => t.Pool.Return(handle), MisuseKind.InvalidHandle);
            RefusedWithoutEffect<InvalidNetmemException>(t, () => handle.ReturnToPool(), MisuseKind.InvalidHandle);
            Assert.False(t.Pool.TryGetDmaAddress(handle, out _));
        }

        KeepsWorking(t, held);
    }

    [Fact]
    public void The_address_of_a_page_destroy_unmapped_is_refused_by_name_and_not_found_without_an_exception()
    {
        TestPool t = TestPool.Create();
        NetmemRef held = t.Pool.Allocate();
        Assert.True(t.Pool.TryGetDmaAddress(held, out ulong mapped));
        Assert.Equal(t.Pool.GetDmaAddress(held), mapped);
        Assert.True(t.Iommu.IsMapped(mapped));

        t.DestroyAndUnbind();

        Assert.Throws<PageNotMappedException>(() => t.Pool.GetDmaAddress(held));
        Assert.False(t.Pool.TryGetDmaAddress(held, out ulong none));
        Assert.Equal(0UL, none);
        Assert.False(t.Pool.TryGetDmaAddress(default, out _));
        t.Pool.Return(held);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
    }

    private static void RefusedWithoutEffect<TException>(TestPool t, Action misuse, MisuseKind kind)
        where TException : NetmemMisuseException
    {
        PoolSnapshot before = PoolSnapshot.Of(t);
        TException refused = Assert.Throws<TException>(misuse);
        Assert.Equal(kind, refused.Kind);
        Assert.Equal(before, PoolSnapshot.Of(t));
    }

    private static void RefusedWithoutEffect<TException>(TestPool t, Func<object> misuse, MisuseKind kind)
        where TException : NetmemMisuseException =>
        RefusedWithoutEffect<TException>(t, () => { _ = misuse(); }, kind);

    /// <summary>The pool still lends, recycles and destroys cleanly, and <paramref name="held"/> is still owned.</summary>
    private static void KeepsWorking(TestPool t, NetmemRef held)
    {
        held.GetSpan()[1] = 9;
        NetmemRef fresh = t.Pool.Allocate();
        fresh.GetSpan()[0] = 1;
        t.Pool.Return(fresh);
        t.Pool.Return(held);
        PagePoolDestroyReport report = t.DestroyAndUnbind();
        Assert.Equal(0, report.StillInflight);
        Assert.Empty(report.Outstanding);
        Assert.Equal(PagePoolState.Released, t.Pool.State);
        Assert.Equal(0, t.Provider.OutstandingPages);
    }
}

/// <summary>
/// A returned handle is refused by what happened to it (its lending ended), never by what became of its pool since:
/// alive, released with every page back, or its item block serving another pool. Runs in the item-block table's
/// collection, alone, so the block the released pool gave back is the one the next pool gets.
/// </summary>
[Collection(nameof(Core.ItemBlockTableSpecs))]
public sealed class PagePoolStaleHandleSpecs
{
    [Fact]
    public void A_returned_handle_is_refused_the_same_way_whether_its_pool_is_alive_released_or_its_block_serves_another_pool()
    {
        var provider = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        var pool = new PagePool(new PagePoolOptions { Device = new IommuModel("stale"), MemoryProvider = provider });
        NetmemRef stale = pool.Allocate();
        pool.Return(stale);
        NetmemRef keepsAlive = pool.Allocate();

        RefusedAsReturned(pool, stale, "alive");

        pool.Return(keepsAlive);
        pool.Destroy();
        Assert.Equal(PagePoolState.Released, pool.State);
        RefusedAsReturned(pool, stale, "released");

        var other = new PagePool(new PagePoolOptions { Device = new IommuModel("reuse"), MemoryProvider = provider });
        List<NetmemRef> lentByOther = Enumerable.Range(0, 64).Select(_ => other.Allocate()).ToList();
        Assert.Same(other, stale.Pool);
        Assert.Contains(lentByOther, page => page.ItemId == stale.ItemId);
        RefusedAsReturned(pool, stale, "reused");
        Assert.Throws<UseAfterReturnException>(() => other.GetDmaAddress(stale));
        Assert.Throws<DoubleReturnException>(() => other.Return(stale));
        Assert.Equal(64, other.Inflight);

        lentByOther.ForEach(other.Return);
        other.Destroy();
        Assert.Equal(PagePoolState.Released, other.State);
        provider.Dispose();
    }

    private static void RefusedAsReturned(PagePool pool, NetmemRef stale, string state)
    {
        Refused<DoubleReturnException>(() => pool.Return(stale), MisuseKind.DoubleReturn, state);
        Refused<DoubleReturnException>(() => pool.RecycleDirect(stale), MisuseKind.DoubleReturn, state);
        Refused<DoubleReturnException>(() => stale.ReturnToPool(), MisuseKind.DoubleReturn, state);
        Refused<UseAfterReturnException>(() => stale.GetSpan(), MisuseKind.UseAfterReturn, state);
        Refused<UseAfterReturnException>(() => pool.GetSpan(stale), MisuseKind.UseAfterReturn, state);
        Refused<UseAfterReturnException>(() => pool.GetDmaAddress(stale), MisuseKind.UseAfterReturn, state);
        Refused<UseAfterReturnException>(() => pool.SyncForCpu(stale, 0, 64), MisuseKind.UseAfterReturn, state);
        Refused<UseAfterReturnException>(() => pool.AcquirePageReference(stale), MisuseKind.UseAfterReturn, state);
        Refused<UseAfterReturnException>(() => new NetmemFragment(stale, 0, 1024).GetSpan(), MisuseKind.UseAfterReturn, state);
        Assert.False(pool.TryGetDmaAddress(stale, out _));
    }

    private static void Refused<TException>(Action misuse, MisuseKind kind, string state)
        where TException : NetmemMisuseException
    {
        Exception thrown = Record.Exception(misuse) ?? throw new Xunit.Sdk.XunitException($"{state}: nothing was refused");
        Assert.True(thrown is TException, $"{state}: refused as {thrown.GetType().Name} ({thrown.Message}), expected {typeof(TException).Name}");
        Assert.Equal(kind, ((NetmemMisuseException)thrown).Kind);
    }

    private static void Refused<TException>(Func<object> misuse, MisuseKind kind, string state)
        where TException : NetmemMisuseException =>
        Refused<TException>(() => { _ = misuse(); }, kind, state);
}
