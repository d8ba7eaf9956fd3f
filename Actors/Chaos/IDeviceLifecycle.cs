using Netmem.Actors.Protocol;
using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Chaos;

/// <summary>How a chaos run binds and unbinds one device: <see cref="SupervisedDevice"/> in every real run.</summary>
internal interface IDeviceLifecycle
{
    /// <summary>The device's name, unique within the process; its pools map through a device of this name.</summary>
    string Device { get; }

    /// <summary>
    /// The device's IOMMU model: the oracle that records every DMA API violation (on the real device, the shadow model
    /// its <see cref="StrictDmaBookkeeping"/> keeps).
    /// </summary>
    IommuModel Iommu { get; }

    /// <summary>Binds the device and completes when it is bound.</summary>
    Task BindAsync(CancellationToken cancellationToken);

    /// <summary>Unbinds the device and completes when its <see cref="Unbound"/> reply arrives.</summary>
    Task<UnbindReport> UnbindAsync(CancellationToken cancellationToken);
}
