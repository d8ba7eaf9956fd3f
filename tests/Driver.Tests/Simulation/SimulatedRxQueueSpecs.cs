using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Xunit;

namespace Netmem.Driver.Tests.Simulation;

public sealed class SimulatedRxQueueSpecs
{
    private readonly IommuModel _iommu = new("sim0");
    private readonly RxFrame[] _frames = new RxFrame[64];

    [Fact]
    public void Frames_land_in_the_posted_pages_as_the_wire_sent_them_and_each_is_one_device_write()
    {
        var pool = new PagePool(new PagePoolOptions { Device = _iommu });
        var queue = new SimulatedRxQueue(_iommu, pool, Wire(maxFrames: 3), ringSize: 8);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(queue.TryPost(pool.Allocate()));
        }

        Assert.Equal(3, queue.Reap(_frames));

        byte[] expected = new byte[128];
        for (int i = 0; i < 3; i++)
        {
            FrameBuilder.Write(expected, new FrameSpec(TestFlows.UdpV4, 128) { PayloadSeed = (byte)i });
            Assert.Equal(expected, _frames[i].Netmem.GetSpan()[.._frames[i].Length].ToArray());
            pool.Return(_frames[i].Netmem);
        }

        Assert.Equal(1, queue.Posted);
        Assert.Equal(3, _iommu.DmaWrites);
        Assert.Empty(_iommu.Violations);
        Assert.Equal(1, queue.Close());
    }

    [Fact]
    public void A_frame_for_a_page_whose_mapping_ended_is_dropped_and_recorded_and_an_empty_wire_records_nothing()
    {
        var pool = new PagePool(new PagePoolOptions { Device = _iommu });
        var queue = new SimulatedRxQueue(_iommu, pool, Wire(maxFrames: 2), ringSize: 8);
        NetmemRef page = pool.Allocate();
        ulong address = pool.GetDmaAddress(page);
        Assert.True(queue.TryPost(page));

        // A driver bug the model must catch: the mapping ends while the page is still posted to the device.
        _iommu.Unmap(address, pool.PageSize, DmaDirection.FromDevice);
        Assert.Equal(0, queue.Reap(_frames));
        Assert.Equal(0, queue.Reap(_frames));

        Assert.Equal(1, queue.Posted);
        Assert.Equal(2, _iommu.DmaWrites);
        Assert.Equal(2, _iommu.CountOf(IommuViolationKind.DmaToUnmappedAddress));
        Assert.All(_iommu.Violations, v => Assert.Equal(address, v.DmaAddress));
        Assert.Equal(2, _iommu.ViolationCount);
    }

    private static SyntheticTrafficSource Wire(long maxFrames) =>
        new(new SyntheticTrafficOptions { Flows = [TestFlows.UdpV4], FrameSizes = [new FrameSizeWeight(128, 1)], MaxFrames = maxFrames });
}
