using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;

namespace Netmem.Actors.Devices.Guard;

/// <summary>One bind of a device with every call into it going through one <see cref="DeviceCallGuard"/>.</summary>
internal sealed class GuardedDeviceBinding : IDeviceBinding
{
    private readonly IDeviceBinding _inner;
    private readonly string _device;
    private readonly GuardedDmaDevice?[] _dmaDevices;

    public GuardedDeviceBinding(IDeviceBinding inner, string device, int queueCount)
    {
        _inner = inner;
        _device = device;
        _dmaDevices = new GuardedDmaDevice?[queueCount];
    }

    public DeviceCallGuard Guard { get; } = new();

    public IDmaDevice GetDmaDevice(int queue) =>
        _dmaDevices[queue] ??= new GuardedDmaDevice(_inner.GetDmaDevice(queue), Guard, queue);

    public IRxQueueDevice OpenRxQueue(int queue, PagePool pool)
    {
        if (!Guard.TryEnter(DeviceCallKind.PostPage, queue, 0, out int slot))
        {
            throw new DeviceAccessRevokedException(_device, DeviceCallKind.PostPage);
        }

        try
        {
            return new GuardedRxQueueDevice(_inner.OpenRxQueue(queue, pool), Guard, queue);
        }
        finally
        {
            Guard.Exit(slot);
        }
    }

    /// <summary>The teardown is the last call: it runs whether or not the guard is revoked, and is counted while it runs.</summary>
    public DeviceTeardownReport TearDown(long revokedMappings)
    {
        int slot = Guard.EnterAlways(DeviceCallKind.TearDown, -1);
        try
        {
            return _inner.TearDown(revokedMappings);
        }
        finally
        {
            Guard.Exit(slot);
        }
    }
}
