using System.Collections.Concurrent;
using Netmem.Pool.Memory;
using Netmem.Pool.Tests.Dma;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// The memory of a page whose mapping was left to the domain teardown after a revocation: it goes back to the
/// memory provider only once the pool is told the teardown has returned (<see cref="PagePool.ReleaseAfterDomainTeardown"/>),
/// because until then the device can still write into it.
/// </summary>
public sealed class PagePoolDomainTeardownSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void A_page_left_to_the_domain_goes_back_to_its_provider_only_once_the_pool_is_told_the_domain_is_gone()
    {
        var device = new StrictDevice();
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        var provider = new ReleaseRecordingProvider(host, device);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, provider, o => o with { SyncForDevice = true });
        NetmemRef[] held = Enumerable.Range(0, 4).Select(_ => pool.Allocate()).ToArray();

        pool.RevokeDeviceAccess();
        pool.Return(held[0]);
        pool.Return(held[1]);

        Assert.Equal(2, pool.GetStats().Release);
        Assert.Equal(2, pool.GetStats().AwaitingDomainTeardown);
        Assert.Empty(provider.Releases);

        pool.Destroy();
        long waitingAfterDestroy = pool.GetStats().AwaitingDomainTeardown;
        Assert.Empty(provider.Releases);
        Assert.Equal(64, device.Unbind());
        Assert.False(pool.IsDomainTornDown);
        pool.ReleaseAfterDomainTeardown();

        Assert.True(pool.IsDomainTornDown);
        Assert.Equal(62, waitingAfterDestroy);
        Assert.Equal(62, provider.Releases.Count);
        Assert.Equal(0, pool.GetStats().AwaitingDomainTeardown);
        Assert.Equal(PagePoolState.Detached, pool.State);

        // Returned after the teardown: straight to the provider, nothing waits.
        pool.Return(held[2]);
        pool.Return(held[3]);
        Assert.Equal(0, pool.GetStats().AwaitingDomainTeardown);
        Assert.Equal(64, provider.Releases.Count);
        Assert.Equal(PagePoolState.Released, pool.State);
        Assert.Empty(device.Violations);
        provider.AssertNoPageLeftToTheDomainFreedBeforeItsTeardown();
        host.Dispose();
    }

    [Fact]
    public void A_pool_still_using_its_device_refuses_to_be_told_its_domain_is_gone()
    {
        var device = new StrictDevice();
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, host);
        NetmemRef page = pool.Allocate();

        var refused = Assert.Throws<InvalidOperationException>(pool.ReleaseAfterDomainTeardown);
        Assert.Contains("still uses its device", refused.Message, StringComparison.Ordinal);
        Assert.False(pool.IsDomainTornDown);

        pool.Return(page);
        pool.Destroy();
        pool.ReleaseAfterDomainTeardown();
        pool.ReleaseAfterDomainTeardown();
        Assert.Equal(PagePoolState.Released, pool.State);
        host.Dispose();
    }

    [Fact]
    public async Task A_pool_with_pages_waiting_for_the_teardown_completes_its_release_only_when_they_are_released()
    {
        var device = new StrictDevice();
        var host = new HostPageProvider(4096, chunkBytes: 64 * 4096);
        PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, host);
        NetmemRef page = pool.Allocate();
        pool.RevokeDeviceAccess();
        pool.Destroy();
        pool.Return(page);

        Assert.Equal(0, pool.Inflight);
        Assert.False(await pool.WaitForReleaseAsync(TimeSpan.FromMilliseconds(50)));
        Assert.Equal(64, host.OutstandingPages);

        device.Unbind();
        pool.ReleaseAfterDomainTeardown();
        Assert.True(await pool.WaitForReleaseAsync(Patience));
        Assert.Equal(0, host.OutstandingPages);
        host.Dispose();
    }

    /// <summary>
    /// The bug this guards against, as it showed in chaos runs: destroy walks a slow device, returners race it, the
    /// supervisor revokes mid-walk, waits for the calls in flight and for destroy, tears the domain down and only then
    /// tells the pool. Round after round, with many returning threads, some returning after the teardown. Fails if
    /// any page whose mapping was still live at the teardown reached the provider before it (the recording provider
    /// orders each release against the device's teardown), if a page is freed while still mapped, or if any page's
    /// memory never comes back.
    /// </summary>
    [Fact]
    public async Task A_revocation_racing_destroy_and_returners_frees_no_page_left_to_the_domain_before_its_teardown()
    {
        var host = new HostPageProvider(4096, chunkBytes: 256 * 4096);
        int returnerCount = Math.Max(4, Environment.ProcessorCount * 2);
        long leftToDomain = 0;
        for (int round = 0; round < 30; round++)
        {
            var device = new StrictDevice { UnmapSpin = 2000, SyncSpin = 300 };
            var provider = new ReleaseRecordingProvider(host, device);
            PagePool pool = PagePoolDestroyRaceSpecs.NewPool(device, provider, o => o with { SyncForDevice = round % 2 == 0, PoolSize = 4 << (round % 3) });
            NetmemRef[] held = Enumerable.Range(0, 192).Select(_ => pool.Allocate()).ToArray();
            NetmemRef[] afterTeardown = held[..16];
            using var tornDown = new ManualResetEventSlim(false);
            var returners = Enumerable.Range(0, returnerCount).Select(r => new Thread(() =>
            {
                SpinWait.SpinUntil(() => pool.State != PagePoolState.Active, Patience);
                for (int i = 16 + r; i < held.Length; i += returnerCount)
                {
                    pool.Return(held[i]);
                }
            })).ToArray();
            Array.ForEach(returners, t => t.Start());

            Task<PagePoolDestroyReport> destroying = Task.Factory.StartNew(pool.Destroy, TaskCreationOptions.LongRunning);
            SpinWait.SpinUntil(() => device.UnmapCalls >= round % 16, Patience);
            pool.RevokeDeviceAccess();
            Assert.True(SpinWait.SpinUntil(() => pool.DeviceCallsInFlight == 0, Patience), "calls in flight never drained");
            PagePoolDestroyReport report = await destroying.WaitAsync(Patience);
            device.Unbind();
            pool.ReleaseAfterDomainTeardown();

            Array.ForEach(returners, t => t.Join());
            Array.ForEach(afterTeardown, pool.Return);
            Assert.True(await pool.WaitForReleaseAsync(Patience), $"round {round}: inflight {pool.Inflight}, waiting {pool.GetStats().AwaitingDomainTeardown}");

            string where = $"round {round}: {string.Join("; ", device.Violations.Take(3))}";
            Assert.True(device.Violations.Count == 0, where);
            provider.AssertNoPageLeftToTheDomainFreedBeforeItsTeardown();
            PagePoolDestroyRaceSpecs.AssertPartition(report, where);
            PagePoolStats stats = pool.GetStats();
            Assert.Equal(device.LeftToDomainAtTeardown.Count, stats.RevokedWithDomain);
            Assert.Equal(0, stats.AwaitingDomainTeardown);
            Assert.Equal(0, provider.OutstandingPages);
            leftToDomain += stats.RevokedWithDomain;
        }

        // The spec only means something if revocations did leave mappings to the domain.
        Assert.True(leftToDomain > 0, "no round left a mapping to the domain");
        host.Dispose();
    }
}

/// <summary>
/// A provider decorator that records every page release on the <see cref="StrictDevice"/>'s clock, and tells the
/// device when a page's memory is really freed, so a spec can check each release against the domain teardown.
/// </summary>
internal sealed class ReleaseRecordingProvider(HostPageProvider inner, StrictDevice device) : IMemoryProvider
{
    private readonly StrictProvider _strict = new(inner, device);
    private readonly ConcurrentQueue<(ulong PageId, long At)> _releases = new();

    public int PageSize => inner.PageSize;

    public bool IsReadable => true;

    public long OutstandingPages => inner.OutstandingPages;

    public IReadOnlyCollection<(ulong PageId, long At)> Releases => _releases;

    public bool TryAllocatePage(out ulong pageId) => _strict.TryAllocatePage(out pageId);

    public nint GetHostAddress(ulong pageId) => inner.GetHostAddress(pageId);

    public void AddPageReference(ulong pageId) => _strict.AddPageReference(pageId);

    public void ReleasePage(ulong pageId)
    {
        _releases.Enqueue((pageId, device.Tick()));
        _strict.ReleasePage(pageId);
    }

    /// <summary>
    /// Every page whose mapping the teardown found live was last released after the teardown. Its last release is the
    /// one after its last mapping: no page is mapped after a revocation, so an earlier release of the same page id
    /// belongs to an earlier lending.
    /// </summary>
    public void AssertNoPageLeftToTheDomainFreedBeforeItsTeardown()
    {
        long tornDownAt = device.TornDownAt;
        var lastRelease = new Dictionary<ulong, long>();
        foreach ((ulong pageId, long at) in _releases)
        {
            lastRelease[pageId] = Math.Max(at, lastRelease.GetValueOrDefault(pageId));
        }

        ulong[] early = device.LeftToDomainAtTeardown.Where(p => lastRelease.TryGetValue(p, out long at) && at < tornDownAt).ToArray();
        Assert.True(early.Length == 0, $"{early.Length} page(s) left to the domain went back to the provider before its teardown: {string.Join(", ", early.Take(10))}");
    }
}
