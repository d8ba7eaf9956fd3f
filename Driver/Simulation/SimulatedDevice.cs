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

    public SimulatedDevice(SimulatedDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name);
        _options = options;
        Iommu = options.Iommu ?? new IommuModel(options.Name);
    }

    public string Name => _options.Name;

    /// <summary>The model that judges every device call of every bind.</summary>
    public IommuModel Iommu { get; }

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
