using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Chaos;

/// <summary>
/// A real device (the kernel through io_uring) under a chaos run: the same seams as the simulated device (DMA map
/// faults and slow unmaps and syncs through <paramref name="dmaDecorator"/>, a crash seam on the receive side, a slow
/// teardown), with the strict model's bookkeeping (<see cref="StrictDmaBookkeeping"/>) between the seams and the
/// device, so the run's violation counters mean the same on both devices.
/// </summary>
/// <param name="inner">The real device.</param>
/// <param name="shadow">The shadow model: bound at each bind, torn down right after the real domain.</param>
/// <param name="dmaDecorator">Wraps each queue's bookkept DMA API (argument 1: the queue) with the run's fault seams.</param>
/// <param name="crashSeam">The driver-crash seam of each queue (argument: the queue).</param>
/// <param name="beforeTeardown">Runs on the tearing-down thread just before the real domain goes (a slow teardown).</param>
/// <param name="receiveDecorator">Wraps each queue's checked receive side with the run's receive-side seams.</param>
internal sealed class CheckedRealDevice(
    INetDevice inner,
    IommuModel shadow,
    Func<int, IDmaDevice, IDmaDevice> dmaDecorator,
    Func<int, DriverFaultSeam> crashSeam,
    Action beforeTeardown,
    Func<IRxQueueDevice, IRxQueueDevice> receiveDecorator) : INetDevice
{
    public string Name => inner.Name;

    public IDeviceBinding Bind(DeviceBindContext context)
    {
        IDeviceBinding binding = inner.Bind(context);
        shadow.Bind();
        return new Binding(binding, shadow, context.QueueCount, dmaDecorator, crashSeam, beforeTeardown, receiveDecorator);
    }

    private sealed class Binding : IDeviceBinding
    {
        private readonly IDeviceBinding _inner;
        private readonly IommuModel _shadow;
        private readonly StrictDmaBookkeeping[] _bookkeeping;
        private readonly IDmaDevice[] _dmaDevices;
        private readonly Func<int, DriverFaultSeam> _crashSeam;
        private readonly Action _beforeTeardown;
        private readonly Func<IRxQueueDevice, IRxQueueDevice> _receiveDecorator;
        private readonly int _violationsAtBind;

        public Binding(IDeviceBinding inner, IommuModel shadow, int queues, Func<int, IDmaDevice, IDmaDevice> dmaDecorator, Func<int, DriverFaultSeam> crashSeam, Action beforeTeardown, Func<IRxQueueDevice, IRxQueueDevice> receiveDecorator)
        {
            _receiveDecorator = receiveDecorator;
            _inner = inner;
            _shadow = shadow;
            _crashSeam = crashSeam;
            _beforeTeardown = beforeTeardown;
            _violationsAtBind = shadow.ViolationCount;
            _bookkeeping = Enumerable.Range(0, queues).Select(q => new StrictDmaBookkeeping(inner.GetDmaDevice(q), shadow)).ToArray();
            _dmaDevices = _bookkeeping.Select((b, q) => dmaDecorator(q, b)).ToArray();
        }

        public IDmaDevice GetDmaDevice(int queue) => _dmaDevices[queue];

        public IRxQueueDevice OpenRxQueue(int queue, PagePool pool) =>
            _receiveDecorator(new CheckedRxQueue(_inner.OpenRxQueue(queue, pool), pool, _bookkeeping[queue], _shadow, _crashSeam(queue)));

        public DeviceTeardownReport TearDown(long revokedMappings)
        {
            _beforeTeardown();
            DeviceTeardownReport real = _inner.TearDown(revokedMappings);
            (int stillMapped, int leaked) = _shadow.TearDown(revokedMappings);
            return new DeviceTeardownReport(
                Math.Max(real.StillMapped, stillMapped),
                Math.Max(real.LeakedMappings, leaked),
                real.Violations + (_shadow.ViolationCount - _violationsAtBind));
        }
    }
}
