using Netmem.Actors.Devices;
using Netmem.Pool.Dma;

namespace Netmem.Actors.Tests;

/// <summary>The shape of a <see cref="DeviceHarness"/>: device name, queues, flows and traffic.</summary>
internal sealed record HarnessOptions
{
    public string Name { get; init; } = "eth0";

    public int Queues { get; init; } = 2;

    /// <summary>Flows 0 .. Flows−1, spread over the queues by index.</summary>
    public int Flows { get; init; } = 4;

    public int RingSize { get; init; } = 64;

    /// <summary>Frames each queue's wire sends in all; null: no end.</summary>
    public long? FramesPerQueue { get; init; }

    /// <summary>Per queue; 0 is as fast as descriptors allow.</summary>
    public double FramesPerSecond { get; init; } = 100_000;

    /// <summary>Queue 0's wire throws on this frame (a driver crash mid-poll).</summary>
    public long? CrashOnFrame { get; init; }

    /// <summary>Wraps each queue's DMA API in front of the IOMMU model (a slow or failing device).</summary>
    public Func<int, IDmaDevice, IDmaDevice>? DecorateDmaDevice { get; init; }

    /// <summary>Runs just before the IOMMU domain is torn down (a slow or hanging teardown blocks here).</summary>
    public Action<int>? BeforeTeardown { get; init; }

    public Func<DeviceOptions, DeviceOptions> Customize { get; init; } = d => d;
}
