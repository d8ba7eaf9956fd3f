using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

public sealed class PagePoolOptionsSpecs
{
    private static readonly Dictionary<string, (PagePoolOptions Options, Type Error, string Parameter)> s_badOptions = new()
    {
        ["ring of 1"] = (new() { PoolSize = 1 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.PoolSize)),
        ["ring not a power of two"] = (new() { PoolSize = 1000 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.PoolSize)),
        ["ring above the kernel cap"] = (new() { PoolSize = 32768 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.PoolSize)),
        ["page below 256 bytes"] = (new() { PageSize = 128 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.PageSize)),
        ["page not a power of two"] = (new() { PageSize = 3000 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.PageSize)),
        ["page above an IOVA slot"] = (new() { PageSize = 2 * IommuModel.SlotSize }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.PageSize)),
        ["provider page size differs"] = (new() { MemoryProvider = new HostPageProvider(8192) }, typeof(ArgumentException), nameof(PagePoolOptions.MemoryProvider)),
        ["sync without a device"] = (new() { SyncForDevice = true }, typeof(ArgumentException), nameof(PagePoolOptions.SyncForDevice)),
        ["negative sync offset"] = (new() { SyncOffset = -1 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.SyncOffset)),
        ["sync offset past the page"] = (new() { SyncOffset = 4096 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.SyncOffset)),
        ["negative sync length"] = (new() { MaxSyncLength = -1 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.MaxSyncLength)),
        ["sync range past the page"] = (new() { SyncOffset = 256, MaxSyncLength = 4000 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.MaxSyncLength)),
        ["zero retry interval"] = (new() { ReleaseRetryInterval = TimeSpan.Zero }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.ReleaseRetryInterval)),
        ["negative stall warning"] = (new() { StallWarningAfter = TimeSpan.FromSeconds(-1) }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.StallWarningAfter)),
        ["unknown DMA direction"] = (new() { DmaDirection = (DmaDirection)7 }, typeof(ArgumentOutOfRangeException), nameof(PagePoolOptions.DmaDirection)),
    };

    public static TheoryData<string> BadOptions => new(s_badOptions.Keys);

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Each_bad_option_is_refused_with_its_own_argument_error(string badOption)
    {
        (PagePoolOptions options, Type error, string parameter) = s_badOptions[badOption];
        int listedBefore = PagePoolRegistry.Pools.Count(p => p.Name == badOption);

        ArgumentException refused = Assert.IsAssignableFrom<ArgumentException>(Record.Exception(() => new PagePool(options with { Name = badOption })));

        Assert.Equal(error, refused.GetType());
        Assert.Equal(parameter, refused.ParamName);
        Assert.Equal(listedBefore, PagePoolRegistry.Pools.Count(p => p.Name == badOption));
    }

    [Fact]
    public void Null_options_are_refused()
    {
        Assert.Throws<ArgumentNullException>(() => new PagePool(null!));
    }

    [Fact]
    public void The_limits_themselves_are_accepted()
    {
        var smallest = new PagePool(new PagePoolOptions { PoolSize = 2, PageSize = 256 });
        var largest = new PagePool(new PagePoolOptions { PoolSize = PagePoolOptions.MaxPoolSize, SyncOffset = 4095, MaxSyncLength = 1, Device = new NoOpDmaDevice(), SyncForDevice = true });

        Assert.Equal(256, smallest.PageSize);
        Assert.Equal(8, smallest.FragmentGranule);
        smallest.Destroy();
        largest.Destroy();
        Assert.Equal(PagePoolState.Released, smallest.State);
        Assert.Equal(PagePoolState.Released, largest.State);
    }

    [Fact]
    public void A_pool_without_a_name_is_named_after_its_id()
    {
        var pool = new PagePool(new PagePoolOptions());

        Assert.Equal($"pool-{pool.Id}", pool.Name);
        Assert.Contains(pool.Name, pool.ToString());
        pool.Destroy();
    }
}
