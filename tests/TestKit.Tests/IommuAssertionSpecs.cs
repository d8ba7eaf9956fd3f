using Netmem.Actors.Protocol;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Stack.Actors;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestKit.Tests;

public sealed class IommuAssertionSpecs(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    [Fact]
    public void An_unbind_with_pages_still_held_leaves_no_violation_and_no_mapping_behind()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        var holder = device.OpenConsumer([DeviceUnderTest.Flow(0)], ConsumerBehavior.HoldUntilReleased);
        device.Bind();
        device.Inject(DeviceUnderTest.Flow(0), count: 30);

        device.Unbind();

        device.AssertNoIommuViolation();
        holder.ReleaseHeld();
        device.AssertNoIommuViolation();
    }

    [Fact]
    public void A_forged_unmap_fails_the_assertion_naming_the_address_and_the_kind_of_violation()
    {
        var device = DeviceUnderTest.StartSimulated(this);
        device.Bind();

        device.Iommu!.Unmap(0xDEAD_0000, 4096, DmaDirection.FromDevice);

        var failure = Assert.Throws<ScenarioAssertionException>(device.AssertNoIommuViolation);
        Output?.WriteLine(failure.Message);
        Assert.StartsWith("eth0: 1 IOMMU problem(s):", failure.Message);
        Assert.Contains("0xDEAD0000", failure.Message);
    }

    [Fact]
    public void A_device_whose_unmaps_do_nothing_fails_the_assertion_with_its_leaked_mappings()
    {
        var simulated = new SimulatedDevice(new SimulatedDeviceOptions { Name = "leaky0", TrafficSourceFactory = _ => new NoTraffic() });
        var device = DeviceUnderTest.Start(this, new UnmapForgettingDevice(simulated), new DeviceUnderTestOptions { RingSize = 16 });
        device.Bind();

        UnbindReport report = device.Unbind();

        var failure = Assert.Throws<ScenarioAssertionException>(device.AssertNoIommuViolation);
        Output?.WriteLine(failure.Message);
        Assert.True(report.LeakedMappings >= 16, $"only {report.LeakedMappings} mappings leaked");
        Assert.Contains($"unbind #1: the device reported {report.DeviceViolations} violation(s) and {report.LeakedMappings} leaked mapping(s)", failure.Message);
        Assert.Throws<ScenarioAssertionException>(() => device.AssertUnboundClean(report));
    }

    private sealed class NoTraffic : Simulation.Traffic.ITrafficSource
    {
        public bool TryReceive(Span<byte> destination, out int length)
        {
            length = 0;
            return false;
        }

        public void Stop()
        {
        }
    }

    /// <summary>A planted bug: a device in front of the simulated one that drops every unmap on the floor.</summary>
    private sealed class UnmapForgettingDevice(INetDevice inner) : INetDevice
    {
        public string Name => inner.Name;

        public IDeviceBinding Bind(DeviceBindContext context) => new Binding(inner.Bind(context));

        private sealed class Binding(IDeviceBinding inner) : IDeviceBinding
        {
            public IDmaDevice GetDmaDevice(int queue) => new ForgetfulDma(inner.GetDmaDevice(queue));

            public IRxQueueDevice OpenRxQueue(int queue, PagePool pool) => inner.OpenRxQueue(queue, pool);

            public DeviceTeardownReport TearDown(long revokedMappings) => inner.TearDown(revokedMappings);
        }

        private sealed class ForgetfulDma(IDmaDevice inner) : IDmaDevice
        {
            public string Name => inner.Name;

            public bool NeedsSync => inner.NeedsSync;

            public ulong Map(DmaBuffer buffer, DmaDirection direction) => inner.Map(buffer, direction);

            public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
            {
            }

            public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) => inner.SyncForDevice(dmaAddress, offset, length, direction);

            public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) => inner.SyncForCpu(dmaAddress, offset, length, direction);
        }
    }
}
