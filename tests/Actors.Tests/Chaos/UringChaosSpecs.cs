using Netmem.Chaos;
using Netmem.TestSupport;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// Chaos on the real device: the kernel, through io_uring, captures real UDP traffic on lo into pool pages, under
/// the same faults and the same counters as the simulated device (these specs need root or CAP_NET_RAW).
/// </summary>
[Collection(ChaosRunCollection.Name)]
public sealed class UringChaosSpecs
{
    [PrivilegedFact]
    public async Task A_run_on_the_real_device_receives_kernel_written_packets_under_every_fault_and_passes()
    {
        ChaosReport report = await ChaosRunner.RunAsync(ChaosTestRuns.Short(seed: 11, seconds: 3) with { Device = ChaosDeviceKind.Uring });

        Assert.Equal(ChaosDeviceKind.Uring, report.Device);
        Assert.True(report.KernelPacketsReceived > 0, "the kernel wrote no packet into a pool page");
        Assert.True(report.Packets.Delivered > 0);
        Assert.True(report.Packets.AddsUp, $"{report.Packets.Unaccounted} packets unaccounted");
        Assert.True(report.Unbinds > 0);
        Assert.Equal(0, report.Violations.KernelErrors);
        Assert.Equal(0, report.TotalViolations);
        Assert.True(report.Passed, string.Join("; ", report.Problems.Concat(report.NotExercised)));
    }

    [PrivilegedFact]
    public async Task On_the_real_device_a_double_unmap_is_counted_as_on_the_simulated_one()
    {
        ChaosReport report = await ChaosRunner.RunAsync(
            ChaosTestRuns.Quiet() with { Device = ChaosDeviceKind.Uring },
            new ChaosHooks { WrapDevice = (bookkept, _) => new UnmapTwiceDecorator(bookkept) });

        Assert.True(report.Violations.DoubleUnmap > 0);
        Assert.False(report.Passed);
    }
}
