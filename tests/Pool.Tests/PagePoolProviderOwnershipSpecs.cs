using Netmem.Pool.Memory;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary><see cref="PagePoolOptions.OwnsMemoryProvider"/>: who frees a given provider's memory.</summary>
public sealed class PagePoolProviderOwnershipSpecs
{
    [Fact]
    public async Task A_pool_that_owns_the_provider_it_was_given_frees_it_once_released()
    {
        var provider = new HostPageProvider();
        var pool = new PagePool(new PagePoolOptions { MemoryProvider = provider, OwnsMemoryProvider = true });
        NetmemRef page = pool.Allocate();

        pool.Destroy();
        Assert.True(provider.TryAllocatePage(out ulong spare), "the provider was freed while the pool still had a page out");
        provider.ReleasePage(spare);
        pool.Return(page);

        Assert.True(await pool.WaitForReleaseAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(0, provider.OutstandingPages);
        Assert.Throws<ObjectDisposedException>(() => provider.TryAllocatePage(out _));
    }

    [Fact]
    public async Task A_pool_that_does_not_own_the_provider_leaves_it_to_its_owner()
    {
        using var provider = new HostPageProvider();
        var pool = new PagePool(new PagePoolOptions { MemoryProvider = provider });
        pool.Return(pool.Allocate());

        pool.Destroy();

        Assert.True(await pool.WaitForReleaseAsync(TimeSpan.FromSeconds(5)));
        Assert.True(provider.TryAllocatePage(out ulong page));
        provider.ReleasePage(page);
    }
}
