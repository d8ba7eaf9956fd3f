using Netmem.Pool.Dma;
using Netmem.Pool.Memory;
using Netmem.Pool.Tests.Dma;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// Destroy races against a slow, strict device (<see cref="StrictDevice"/>): the windows a broken gate, claim or
/// wait would need are held open by the device itself, so each spec fails on the bug it names (each was planted by
/// hand and seen red; see the remarks on each).
/// </summary>
public sealed class PagePoolDestroyRaceSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Holders keep syncing their pages for the CPU while destroy runs, and the device is unbound the instant destroy
    /// returns. Fails if a CPU sync bypasses the device gate (it is still inside the device when the walk unmaps its
    /// page, or when destroy returns), or if the walk runs before the gate is closed (it unmaps a page under a sync
    /// the gate admitted).
    /// </summary>
    [Fact]
    public void Cpu_syncs_racing_destroy_never_overlap_the_walk_and_never_outlive_destroy()
    {
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        for (int round = 0; round < 60; round++)
        {
            var device = new StrictDevice { SyncSpin = 4000, UnmapSpin = 200 };
            PagePool pool = NewPool(device, host);
            NetmemRef[] held = Enumerable.Range(0, 16).Select(_ => pool.Allocate()).ToArray();
            int stop = 0;
            long syncs = 0;
            Thread[] holders = Enumerable.Range(0, 2).Select(h => new Thread(() =>
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    for (int i = h; i < held.Length; i += 2)
                    {
                        pool.SyncForCpu(held[i], 0, 256);
                        Interlocked.Increment(ref syncs);
                    }
                }
            })).ToArray();
            Array.ForEach(holders, t => t.Start());
            Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref syncs) > 4 + (round % 8), Patience));

            PagePoolDestroyReport report = pool.Destroy();
            device.Unbind();
            Volatile.Write(ref stop, 1);
            Array.ForEach(holders, t => t.Join());

            string where = $"round {round}: {string.Join("; ", device.Violations.Take(3))}";
            Assert.True(device.Violations.Count == 0, where);
            Assert.Equal(16, report.UnmappedByDestroy);
            Assert.All(held, page => Assert.False(pool.TryGetDmaAddress(page, out _)));
            Array.ForEach(held, pool.Return);
            Assert.Equal(PagePoolState.Released, pool.State);
        }

        host.Dispose();
    }

    /// <summary>
    /// Holders return their pages while destroy's walk is busy unmapping through a slow device, in the order the walk
    /// reaches them last. Fails if a release that meets the closed gate frees the page without waiting for the walk
    /// (memory freed while still mapped, or under the walk's running unmap), and if the walk does not take the unmap
    /// claim (the pool still calls a page mapped after destroy unmapped it, or counts it twice).
    /// </summary>
    [Fact]
    public async Task Releases_meeting_the_closed_gate_wait_for_the_walk_and_every_page_is_counted_once()
    {
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        for (int round = 0; round < 40; round++)
        {
            var device = new StrictDevice { UnmapSpin = 1500 };
            var provider = new StrictProvider(host, device);
            PagePool pool = NewPool(device, provider);
            // The whole first batch is lent, so the cache is empty and the gate closes as soon as destroy starts.
            NetmemRef[] held = Enumerable.Range(0, 64).Select(_ => pool.Allocate()).ToArray();
            var returners = Enumerable.Range(0, 3).Select(r => new Thread(() =>
            {
                SpinWait.SpinUntil(() => pool.State != PagePoolState.Active, Patience);
                for (int i = held.Length - 1 - r; i >= held.Length / 3; i -= 3)
                {
                    pool.Return(held[i]);
                }
            })).ToArray();
            Array.ForEach(returners, t => t.Start());

            PagePoolDestroyReport report = pool.Destroy();
            device.Unbind();
            Array.ForEach(returners, t => t.Join());
            List<NetmemRef> stillHeld = held.Take(held.Length / 3).ToList();
            foreach (NetmemRef page in stillHeld)
            {
                Assert.False(pool.TryGetDmaAddress(page, out _), $"round {round}: the pool still calls a page mapped after destroy unmapped it.");
                Assert.Throws<PageNotMappedException>(() => pool.GetDmaAddress(page));
            }

            stillHeld.ForEach(pool.Return);
            Assert.True(await pool.WaitForReleaseAsync(Patience));

            string where = $"round {round}: {string.Join("; ", device.Violations.Take(3))}";
            Assert.True(device.Violations.Count == 0, where);
            Assert.Equal(device.MapCalls, device.UnmapCalls);
            AssertPartition(report, where);
            Assert.Equal(0, report.RevokedWithDomain);
            Assert.Equal(0, provider.OutstandingPages);
        }

        host.Dispose();
    }

    internal static void AssertPartition(PagePoolDestroyReport report, string where)
    {
        Assert.True(report.ReleasedFromCache >= 0 && report.ReleasedFromRing >= 0 && report.UnmappedByDestroy >= 0
            && report.RevokedWithDomain >= 0 && report.StillInflight >= 0, $"{where}: a negative figure in {report}");
        Assert.True(
            report.ReleasedFromCache + report.ReleasedFromRing + report.UnmappedByDestroy + report.RevokedWithDomain + report.StillInflight == report.InflightAtDestroy,
            $"{where}: {report.ReleasedFromCache} + {report.ReleasedFromRing} + {report.UnmappedByDestroy} + {report.RevokedWithDomain} + {report.StillInflight} != {report.InflightAtDestroy}");
        Assert.True(report.StillInflight <= report.HeldAtReport, $"{where}: more pages still inflight than held ({report.StillInflight} > {report.HeldAtReport})");
    }

    internal static PagePool NewPool(IDmaDevice device, IMemoryProvider provider, Func<PagePoolOptions, PagePoolOptions>? configure = null)
    {
        var options = new PagePoolOptions
        {
            Device = device,
            MemoryProvider = provider,
            PoolSize = 64,
            ReleaseRetryInterval = TimeSpan.FromMilliseconds(1),
        };
        return new PagePool(configure is null ? options : configure(options));
    }
}
