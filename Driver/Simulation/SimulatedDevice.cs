using Netmem.Driver.Devices;

namespace Netmem.Simulation;

/// <summary>
/// The simulated NIC: a strict <see cref="IommuModel"/> as its DMA domain and a synthetic wire per RX queue, whose
/// frames the model "DMAs" into posted pages. It is the oracle of tests and chaos runs: every map, unmap, sync and
/// DMA write goes through the model, which records each misuse instead of crashing.
/// </summary>
public sealed class SimulatedDevice : INetDevice
{
    private readonly SimulatedDeviceOptions _options;
    private int _binds;

    /// <summary>A device described by <paramref name="options"/>; it judges its calls with <see cref="SimulatedDeviceOptions.Iommu"/>, or a strict model of its own.</summary>
    /// <exception cref="ArgumentException">The options have no name.</exception>
    public SimulatedDevice(SimulatedDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name);
        _options = options;
        Iommu = options.Iommu ?? new IommuModel(options.Name);
    }

    /// <summary>The device name from its options; it names the device's actors and pools.</summary>
    public string Name => _options.Name;

    /// <summary>The model that judges every device call of every bind.</summary>
    public IommuModel Iommu { get; }

    /// <summary>
    /// Gives the IOMMU model a fresh domain and prepares the bind's RX queues, each fed by
    /// <see cref="SimulatedDeviceOptions.TrafficSourceFactory"/>.
    /// </summary>
    /// <exception cref="DeviceBindException">The pages are larger than the model maps, or the previous bind still has live mappings.</exception>
    public IDeviceBinding Bind(DeviceBindContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.PageSize > IommuModel.SlotSize)
        {
            throw new DeviceBindException($"{Name}: pages of {context.PageSize} bytes are larger than the IOMMU model maps ({IommuModel.SlotSize} bytes).");
        }

        if (Iommu.IsBound && Iommu.LiveMappingCount > 0)
        {
            throw new DeviceBindException($"{Name}: the device is still bound with {Iommu.LiveMappingCount} live mappings; unbind it first.");
        }

        Iommu.Bind();
        return new SimulatedBinding(_options, Iommu, Interlocked.Increment(ref _binds), context);
    }
}
