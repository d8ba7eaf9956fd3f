using Netmem.Driver.Devices;
using Netmem.Pool.Dma;
using Netmem.Simulation.Traffic;

namespace Netmem.Simulation;

/// <summary>How a <see cref="SimulatedDevice"/> is made: its IOMMU model, its wire and the seams faults go through.</summary>
public sealed record SimulatedDeviceOptions
{
    /// <summary>The device name.</summary>
    public required string Name { get; init; }

    /// <summary>The wire of each RX queue (argument: the queue index), made each time a driver opens the queue.</summary>
    public required Func<int, ITrafficSource> TrafficSourceFactory { get; init; }

    /// <summary>The strict IOMMU model; null makes one named after the device.</summary>
    public IommuModel? Iommu { get; init; }

    /// <summary>
    /// Wraps the DMA API each queue's pool gets (arguments: queue index, the IOMMU model). Fault decorators go here
    /// so the model underneath still judges every call that gets through.
    /// </summary>
    public Func<int, IDmaDevice, IDmaDevice>? DmaDeviceDecorator { get; init; }

    /// <summary>
    /// Wraps each receive side a driver opens (arguments: queue index, the simulated receive side): a fault seam for
    /// what a driver meets when it posts, reaps or closes.
    /// </summary>
    public Func<int, IRxQueueDevice, IRxQueueDevice>? RxQueueDecorator { get; init; }

    /// <summary>
    /// Runs on the tearing-down thread just before the IOMMU domain goes (argument: the bind number, from 1): a slow
    /// or hanging teardown is modelled by blocking here.
    /// </summary>
    public Action<int>? BeforeTeardown { get; init; }
}
