using Microsoft.Coyote.Specifications;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// <see cref="PagePool.RevokeDeviceAccess"/> under systematic interleaving: destroy's walk, a late release and a CPU
/// sync race a supervisor that revokes access, waits for <see cref="PagePool.DeviceCallsInFlight"/> to read 0 and
/// unbinds the device at once. Any call after that unbind, or still running at it, is a recorded violation, and every
/// mapping must end exactly once: unmapped by the pool, or left to the domain (counted as revoked).
/// </summary>
[Collection(nameof(CoyoteCollection))]
public sealed class RevocationModelChecks
{
    [Fact]
    public void A_supervisor_that_revokes_and_waits_for_zero_calls_in_flight_never_sees_a_device_call_after_it() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote-revoke");
            var device = new CountingDevice(iommu);
            var provider = new TeardownCheckingProvider(PrefilledProvider(), device);
            PagePool pool = PoolOn(device, provider);
            NetmemRef[] held = [pool.Allocate(), pool.Allocate(), pool.Allocate()];
            PagePoolDestroyReport? report = null;
            long revokedWhenDestroyReturned = 0;

            Task destroyer = Task.Run(() =>
            {
                report = pool.Destroy();
                revokedWhenDestroyReturned = pool.GetStats().RevokedWithDomain;
            });
            Task returner = Task.Run(() => pool.Return(held[0]));
            Task syncer = Task.Run(() => pool.SyncForCpu(held[1], 0, 64));
            Task supervisor = Task.Run(() =>
            {
                pool.RevokeDeviceAccess();
                SpinWait spinner = default;
                while (pool.DeviceCallsInFlight != 0)
                {
                    spinner.SpinOnce();
                }

                Specification.Assert(device.Running == 0, $"{device.Running} device call(s) running while calls in flight read 0.");
                iommu.Unbind();
                device.NoteTornDown();
                pool.ReleaseAfterDomainTeardown();
            });
            await Task.WhenAll(destroyer, returner, syncer, supervisor);

            pool.Return(held[1]);
            pool.Return(held[2]);
            pool.RetryRelease();
            PagePoolStats stats = pool.GetStats();
            string violations = string.Join("; ", iommu.Violations.Where(v => v.Kind != IommuViolationKind.MappingLeakedAtUnbind).Select(v => $"{v.Kind}: {v.Detail}"));
            Specification.Assert(violations.Length == 0, violations);
            Specification.Assert(iommu.MapCalls == iommu.UnmapCalls + stats.RevokedWithDomain, $"{iommu.MapCalls} maps, {iommu.UnmapCalls} unmaps, {stats.RevokedWithDomain} left to the domain.");
            Specification.Assert(iommu.CountOf(IommuViolationKind.MappingLeakedAtUnbind) <= stats.RevokedWithDomain, "a mapping left at unbind was not taken as revoked.");
            // What a supervisor tells the domain teardown: once destroy has returned, the count of mappings left to
            // the domain must be final (a releaser's revoked claim counted before the walk ends, not after).
            Specification.Assert(stats.RevokedWithDomain == revokedWhenDestroyReturned, $"{revokedWhenDestroyReturned} revoked when destroy returned, {stats.RevokedWithDomain} in the end.");
            Specification.Assert(pool.State == PagePoolState.Released && stats.Hold == stats.Release, $"pool is {pool.State}, hold {stats.Hold}, release {stats.Release}.");
            Specification.Assert(provider.FreedBeforeTeardown == 0, $"{provider.FreedBeforeTeardown} page(s) with a live mapping went back to the provider before the domain teardown.");
            Specification.Assert(provider.Inner.OutstandingPages == 0 && stats.AwaitingDomainTeardown == 0, $"{provider.Inner.OutstandingPages} page(s) never went back to the provider.");
            PagePoolDestroyReport r = report!;
            Specification.Assert(
                r.ReleasedFromCache + r.ReleasedFromRing + r.UnmappedByDestroy + r.RevokedWithDomain + r.StillInflight == r.InflightAtDestroy && r.StillInflight >= 0,
                $"the report does not partition: {r}");
        }, iterations: 1000);

    /// <summary>
    /// A driver's poll syncs its frames in one batch (<see cref="PagePool.SyncForCpu{TRange}(ReadOnlySpan{TRange})"/>,
    /// one admission to the device gate) while a supervisor revokes access and waits for no call in flight. Besides
    /// the supervisor's guarantee, the batch may start at most one device call once the revocation has returned: the
    /// one it had already passed its check of the gate for, as a single sync admitted just before would.
    /// </summary>
    [Fact]
    public void A_batch_of_cpu_syncs_admitted_once_starts_at_most_one_call_after_a_revocation_and_none_after_zero_in_flight() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var iommu = new IommuModel("coyote-revoke-batch");
            var device = new CountingDevice(iommu);
            PagePool pool = PoolOn(device);
            NetmemRef[] held = [pool.Allocate(), pool.Allocate(), pool.Allocate()];
            SyncRange[] ranges = held.Select(page => new SyncRange(page, 0, 64)).ToArray();

            Task syncer = Task.Run(() => pool.SyncForCpu<SyncRange>(ranges));
            Task supervisor = Task.Run(() =>
            {
                pool.RevokeDeviceAccess();
                device.NoteRevoked();
                SpinWait spinner = default;
                while (pool.DeviceCallsInFlight != 0)
                {
                    spinner.SpinOnce();
                }

                Specification.Assert(device.Running == 0, $"{device.Running} device call(s) running while calls in flight read 0.");
                iommu.Unbind();
            });
            await Task.WhenAll(syncer, supervisor);

            Specification.Assert(device.StartedAfterRevoke <= 1, $"{device.StartedAfterRevoke} device calls started after the revocation returned.");
            string violations = string.Join("; ", iommu.Violations.Where(v => v.Kind != IommuViolationKind.MappingLeakedAtUnbind).Select(v => $"{v.Kind}: {v.Detail}"));
            Specification.Assert(violations.Length == 0, violations);
        }, iterations: 1000);

    // A pool of the device whose retry timer never fires inside a check.
    private static PagePool PoolOn(CountingDevice device, Memory.IMemoryProvider? provider = null) => new(new PagePoolOptions
    {
        Device = device,
        PoolSize = 2,
        MemoryProvider = provider ?? PrefilledProvider(),
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

    private readonly record struct SyncRange(NetmemRef Netmem, int Offset, int Length) : ICpuSyncRange;

    /// <summary>
    /// Frees pages into the inner provider, and counts each page freed while the device still maps it before the
    /// domain's teardown (the device may still write there).
    /// </summary>
    private sealed class TeardownCheckingProvider(Memory.HostPageProvider inner, CountingDevice device) : Memory.IMemoryProvider
    {
        private int _freedBeforeTeardown;

        public Memory.HostPageProvider Inner => inner;

        public int FreedBeforeTeardown => Volatile.Read(ref _freedBeforeTeardown);

        public int PageSize => inner.PageSize;

        public bool IsReadable => inner.IsReadable;

        public bool TryAllocatePage(out ulong pageId) => inner.TryAllocatePage(out pageId);

        public nint GetHostAddress(ulong pageId) => inner.GetHostAddress(pageId);

        public void AddPageReference(ulong pageId) => inner.AddPageReference(pageId);

        public void ReleasePage(ulong pageId)
        {
            if (!device.TornDown && device.IsMapped(pageId))
            {
                Interlocked.Increment(ref _freedBeforeTeardown);
            }

            inner.ReleasePage(pageId);
        }
    }

    /// <summary>Counts the calls running inside the device, with a scheduling point in the middle of each.</summary>
    private sealed class CountingDevice(IommuModel inner) : IDmaDevice
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, ulong> _pageOfAddress = new();
        private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, bool> _mappedPages = new();
        private int _tornDown;
        private int _running;
        private int _revoked;
        private int _startedAfterRevoke;

        public int Running => Volatile.Read(ref _running);

        /// <summary>Calls that started after <see cref="NoteRevoked"/>.</summary>
        public int StartedAfterRevoke => Volatile.Read(ref _startedAfterRevoke);

        public string Name => inner.Name;

        public bool NeedsSync => true;

        /// <summary>Whether the domain was torn down (<see cref="NoteTornDown"/>).</summary>
        public bool TornDown => Volatile.Read(ref _tornDown) != 0;

        public ulong Map(DmaBuffer buffer, DmaDirection direction)
        {
            ulong address = inner.Map(buffer, direction);
            _pageOfAddress[address] = buffer.PageId;
            _mappedPages[buffer.PageId] = true;
            return address;
        }

        public void Unmap(ulong dmaAddress, int length, DmaDirection direction) => Run(() =>
        {
            if (_pageOfAddress.TryRemove(dmaAddress, out ulong page))
            {
                _mappedPages.TryRemove(page, out _);
            }

            inner.Unmap(dmaAddress, length, direction);
        });

        /// <summary>Whether the page has a mapping that was neither unmapped nor torn down with the domain.</summary>
        public bool IsMapped(ulong pageId) => _mappedPages.ContainsKey(pageId);

        /// <summary>The supervisor's teardown of the domain returned.</summary>
        public void NoteTornDown() => Volatile.Write(ref _tornDown, 1);

        public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
            Run(() => inner.SyncForDevice(dmaAddress, offset, length, direction));

        public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
            Run(() => inner.SyncForCpu(dmaAddress, offset, length, direction));

        /// <summary>Called by the supervisor as soon as the pool's revocation has returned.</summary>
        public void NoteRevoked() => Volatile.Write(ref _revoked, 1);

        private void Run(Action call)
        {
            if (Volatile.Read(ref _revoked) != 0)
            {
                Interlocked.Increment(ref _startedAfterRevoke);
            }

            Interlocked.Increment(ref _running);
            call();
            Interlocked.Decrement(ref _running);
        }
    }
}
