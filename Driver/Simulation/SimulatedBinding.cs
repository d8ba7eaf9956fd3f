using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation.Traffic;

namespace Netmem.Simulation;

/// <summary>One bind of a <see cref="SimulatedDevice"/>: the IOMMU domain is up until <see cref="TearDown"/>.</summary>
internal sealed class SimulatedBinding : IDeviceBinding
{
    private readonly SimulatedDeviceOptions _options;
    private readonly IommuModel _iommu;
    private readonly int _bindNumber;
    private readonly DeviceBindContext _context;
    private readonly IDmaDevice[] _dmaDevices;
    private readonly ITrafficSource?[] _wires;
    private readonly int _violationsAtBind;

    public SimulatedBinding(SimulatedDeviceOptions options, IommuModel iommu, int bindNumber, DeviceBindContext context)
    {
        _options = options;
        _iommu = iommu;
        _bindNumber = bindNumber;
        _context = context;
        _violationsAtBind = iommu.ViolationCount;
        _wires = new ITrafficSource?[context.QueueCount];
        _dmaDevices = new IDmaDevice[context.QueueCount];
        for (int queue = 0; queue < _dmaDevices.Length; queue++)
        {
            _dmaDevices[queue] = options.DmaDeviceDecorator?.Invoke(queue, iommu) ?? iommu;
        }
    }

    public IDmaDevice GetDmaDevice(int queue) => _dmaDevices[queue];

    /// <remarks>The queue's wire is made at its first opening and kept across driver restarts, as a NIC's port is.</remarks>
    public IRxQueueDevice OpenRxQueue(int queue, PagePool pool)
    {
        lock (_wires)
        {
            var receiver = new SimulatedRxQueue(_iommu, pool, _wires[queue] ??= _options.TrafficSourceFactory(queue), _context.RingSize);
            return _options.RxQueueDecorator?.Invoke(queue, receiver) ?? receiver;
        }
    }

    public DeviceTeardownReport TearDown(long revokedMappings)
    {
        lock (_wires)
        {
            foreach (ITrafficSource? wire in _wires)
            {
                wire?.Stop();
            }
        }

        _options.BeforeTeardown?.Invoke(_bindNumber);
        (int stillMapped, int leaked) = _iommu.TearDown(revokedMappings);
        return new DeviceTeardownReport(stillMapped, leaked, _iommu.ViolationCount - _violationsAtBind);
    }
}
