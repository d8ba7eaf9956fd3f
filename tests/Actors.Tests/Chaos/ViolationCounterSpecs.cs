using Netmem.Chaos;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// Every violation counter of the report must be able to move: each spec plants one deliberately broken device,
/// consumer or supervisor in an otherwise quiet run and shows that its counter counts it.
/// </summary>
[Collection(ChaosRunCollection.Name)]
public sealed class ViolationCounterSpecs
{
    [Fact]
    public async Task A_device_that_unmaps_twice_is_counted_as_double_unmap()
    {
        ChaosReport report = await RunWith(new ChaosHooks { WrapDevice = (_, iommu) => new DoubleUnmappingDevice(iommu) });

        Assert.True(report.Violations.DoubleUnmap > 0);
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task A_device_whose_dma_engine_outlives_the_unbind_is_counted_as_device_call_after_unbind()
    {
        var devices = new List<LingeringDmaDevice>();
        try
        {
            ChaosReport report = await RunWith(new ChaosHooks
            {
                WrapDevice = (_, iommu) =>
                {
                    var device = new LingeringDmaDevice(iommu);
                    devices.Add(device);
                    return device;
                },
            });

            Assert.True(report.Violations.DeviceCallAfterUnbind > 0);
        }
        finally
        {
            devices.ForEach(d => d.Dispose());
        }
    }

    [Fact]
    public async Task A_device_that_writes_after_unmap_is_counted_as_dma_to_an_unmapped_page()
    {
        ChaosReport report = await RunWith(new ChaosHooks { WrapDevice = (_, iommu) => new DmaAfterUnmapDevice(iommu) });

        Assert.True(report.Violations.DmaToUnmappedPage > 0);
    }

    [Fact]
    public async Task A_driver_that_syncs_after_unmap_is_counted_as_sync_of_an_unmapped_page()
    {
        ChaosReport report = await RunWith(new ChaosHooks { WrapDevice = (_, iommu) => new SyncAfterUnmapDevice(iommu) });

        Assert.True(report.Violations.SyncOfUnmappedPage > 0);
    }

    [Fact]
    public async Task A_device_that_unmaps_an_address_it_never_mapped_is_counted()
    {
        ChaosReport report = await RunWith(new ChaosHooks { WrapDevice = (_, iommu) => new StrayUnmapDevice(iommu) });

        Assert.True(report.Violations.UnmapOfUnknownAddress > 0);
    }

    [Fact]
    public async Task A_device_that_unmaps_with_another_length_than_it_mapped_is_counted_as_that_not_as_an_unknown_address()
    {
        ChaosReport report = await RunWith(new ChaosHooks { WrapDevice = (_, iommu) => new MismatchedUnmapDevice(iommu, wrongLength: true) });

        Assert.True(report.Violations.UnmapLengthMismatch > 0);
        Assert.Equal(0, report.Violations.UnmapOfUnknownAddress);
        Assert.Equal(0, report.Violations.UnmapDirectionMismatch);
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task A_device_that_unmaps_with_another_direction_than_it_mapped_is_counted_as_that_not_as_an_unknown_address()
    {
        ChaosReport report = await RunWith(new ChaosHooks { WrapDevice = (_, iommu) => new MismatchedUnmapDevice(iommu, wrongLength: false) });

        Assert.True(report.Violations.UnmapDirectionMismatch > 0);
        Assert.Equal(0, report.Violations.UnmapOfUnknownAddress);
        Assert.Equal(0, report.Violations.UnmapLengthMismatch);
        Assert.False(report.Passed);
    }

    [Fact]
    public async Task A_device_that_drops_unmaps_is_counted_as_mapping_leaked_at_unbind()
    {
        ChaosReport report = await RunWith(new ChaosHooks { WrapDevice = (_, iommu) => new UnmapDroppingDevice(iommu) });

        Assert.True(report.Violations.MappingLeakedAtUnbind > 0);
    }

    [Fact]
    public async Task A_consumer_that_never_disposes_a_packet_is_counted_as_page_leaked_at_end_of_run()
    {
        var kept = new List<ReceivedPacket>();
        var hooks = new ChaosHooks
        {
            TapPacket = (_, packet) =>
            {
                lock (kept)
                {
                    if (kept.Count >= 3)
                    {
                        return false;
                    }

                    kept.Add(packet);
                    return true;
                }
            },
        };

        // The leaked pages keep their pools from ever being released; do not wait long for that.
        ChaosReport report = await RunWith(hooks, ChaosTestRuns.Quiet() with { PhaseTimeout = TimeSpan.FromSeconds(1) });

        Assert.Equal(3, report.Violations.PageLeakedAtEndOfRun);
        kept.ForEach(p => p.Dispose());
    }

    [Fact]
    public async Task A_consumer_that_pins_a_page_with_a_reference_it_never_drops_is_counted_as_accounting_mismatch()
    {
        int pinned = 0;
        ChaosReport report = await RunWith(new ChaosHooks
        {
            TapPacket = (_, packet) =>
            {
                if (Interlocked.Increment(ref pinned) <= 2)
                {
                    PagePool.OwnerOf(packet.Page).AcquirePageReference(packet.Page);
                }

                return false;
            },
        });

        Assert.Equal(2, report.Violations.AccountingMismatch);
        Assert.Equal(0, report.Violations.PageLeakedAtEndOfRun);
    }

    [Fact]
    public async Task A_supervisor_that_answers_unbound_before_destroying_is_counted()
    {
        ChaosReport report = await RunWith(
            new ChaosHooks { WrapLifecycle = inner => new EarlyUnboundDevice(inner) },
            ChaosTestRuns.Quiet(3) with { Duration = TimeSpan.FromSeconds(1.5), EnabledFaults = new HashSet<FaultKind> { FaultKind.UnbindUnderLoad } });

        Assert.True(report.Violations.UnboundWithItemsNotReclaimed > 0);
    }

    [Fact]
    public async Task A_second_reader_that_drops_packets_behind_the_application_is_counted_as_packets_unaccounted()
    {
        int stolen = 0;
        var gate = new object();
        ChaosReport report = await RunWith(new ChaosHooks
        {
            TapPacket = (socket, _) =>
            {
                lock (gate)
                {
                    if (stolen < 5 && socket.Reader.TryRead(out ReceivedPacket behindTheBack))
                    {
                        stolen++;
                        behindTheBack.Dispose();
                    }
                }

                return false;
            },
        });

        Assert.Equal(5, stolen);
        Assert.Equal(5, report.Violations.PacketsUnaccounted);
        Assert.False(report.Packets.AddsUp);
    }

    private static Task<ChaosReport> RunWith(ChaosHooks hooks, ChaosSettings? settings = null) =>
        ChaosRunner.RunAsync(settings ?? ChaosTestRuns.Quiet(), hooks);
}
