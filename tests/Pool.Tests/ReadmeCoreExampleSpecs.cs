using Netmem.Pool;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>The README's "Embedding the core" example, compiled and run: keep the two identical.</summary>
public sealed class ReadmeCoreExampleSpecs
{
    [Fact]
    public async Task The_README_core_example_runs_and_leaves_the_device_clean()
    {
        var device = new IommuModel("eth0");                       // the strict model; or your own IDmaDevice
        var pool = new PagePool(new PagePoolOptions { Device = device, QueueIndex = 0 });

        NetmemRef page = pool.Allocate();                          // owner (RX poll loop) only
        page.GetSpan()[0] = 0xFF;                                  // readable while owned
        pool.Return(page);                                         // from any thread

        PagePoolDestroyReport report = pool.Destroy();             // every inflight page unmapped here
        device.Unbind();                                           // safe: no device call follows
        await pool.WaitForReleaseAsync(TimeSpan.FromSeconds(5));   // late returns free pages, no device call

        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Equal(0, report.StillInflight);
        Assert.Empty(device.Violations);
    }
}
