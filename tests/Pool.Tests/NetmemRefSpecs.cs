using System.Runtime.CompilerServices;
using Netmem.Pool.Misuse;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class NetmemRefSpecs
{
    [Fact]
    public void A_handle_is_eight_bytes()
    {
        Assert.Equal(8, Unsafe.SizeOf<NetmemRef>());
    }

    [Fact]
    public void A_handle_rebuilt_from_its_value_is_the_same_handle_and_finds_its_pool()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();

        NetmemRef rebuilt = NetmemRef.FromValue(page.Value);

        Assert.Equal(page, rebuilt);
        Assert.True(page == rebuilt);
        Assert.False(page != rebuilt);
        Assert.Equal(page.GetHashCode(), rebuilt.GetHashCode());
        Assert.True(page.Equals((object)rebuilt));
        Assert.Same(t.Pool, rebuilt.Pool);
        Assert.Same(t.Pool, PagePool.OwnerOf(rebuilt));
        Assert.True(rebuilt.IsReadable);
        Assert.False(rebuilt.IsDefault);
        rebuilt.ReturnToPool();
        Assert.Throws<DoubleReturnException>(() => t.Pool.Return(page));
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Two_lendings_of_the_same_page_are_different_handles()
    {
        TestPool t = TestPool.Create();
        NetmemRef first = t.Pool.Allocate();
        t.Pool.RecycleDirect(first);

        NetmemRef second = t.Pool.Allocate();

        Assert.NotEqual(first, second);
        Assert.Equal(first.BlockIndex, second.BlockIndex);
        Assert.Equal(first.ItemIndex, second.ItemIndex);
        Assert.Contains($"gen {second.Generation}", second.ToString());
        t.Pool.Return(second);
        t.DestroyAndUnbind();
    }

    [Fact]
    public void Returning_a_handle_again_after_its_pool_was_released_is_reported_as_a_double_return()
    {
        TestPool t = TestPool.Create();
        NetmemRef page = t.Pool.Allocate();
        t.DestroyAndUnbind();
        page.ReturnToPool();
        Assert.Equal(PagePoolState.Released, t.Pool.State);

        Assert.Throws<DoubleReturnException>(() => page.ReturnToPool());
        Assert.Equal(0, t.Pool.Inflight);
        Assert.Equal(0, t.Provider.OutstandingPages);
    }

    [Fact]
    public void The_default_handle_names_no_pool()
    {
        NetmemRef none = default;

        Assert.True(none.IsDefault);
        Assert.Equal("netmem(default)", none.ToString());
        Assert.Null(none.Pool);
        Assert.Throws<InvalidNetmemException>(() => PagePool.OwnerOf(none));
    }
}
