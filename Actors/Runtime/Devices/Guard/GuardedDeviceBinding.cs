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
    private readonly GuardedRxQueueDevice?[] _receiveSides;

    // Orders opening a receive side against the supervisor's close of them all: a side opened before the close took
    // its snapshot is closed by it, and none opens after (a driver restarted just before the unbind began).
    private readonly Lock _receiveSidesLock = new();
    private bool _receiveSidesClosing;

    public GuardedDeviceBinding(IDeviceBinding inner, string device, int queueCount)
    {
        _inner = inner;
        _device = device;
        _dmaDevices = new GuardedDmaDevice?[queueCount];
        _receiveSides = new GuardedRxQueueDevice?[queueCount];
    }

    public DeviceCallGuard Guard { get; } = new();

    public IDmaDevice GetDmaDevice(int queue) =>
        _dmaDevices[queue] ??= new GuardedDmaDevice(_inner.GetDmaDevice(queue), Guard, queue);

    public IRxQueueDevice OpenRxQueue(int queue, PagePool pool)
    {
        lock (_receiveSidesLock)
        {
            if (_receiveSidesClosing || !Guard.TryEnter(DeviceCallKind.PostPage, queue, 0, out int slot))
            {
                throw new DeviceAccessRevokedException(_device, DeviceCallKind.PostPage);
            }

            try
            {
                var side = new GuardedRxQueueDevice(_inner.OpenRxQueue(queue, pool), Guard, queue);
                _receiveSides[queue] = side;
                return side;
            }
            finally
            {
                Guard.Exit(slot);
            }
        }
    }

    /// <summary>
    /// Closes every receive side still open, each after the call still inside it (a driver that hung in the device)
    /// has returned, and refuses to open any more; returns how many pages the closes gave back and, in words, each
    /// close that failed (its posted pages stay with the device). Blocks for as long as such a call lasts: run it off
    /// the actor thread.
    /// </summary>
    public (long PagesReturned, IReadOnlyList<string> Failures) CloseReceiveSides()
    {
        GuardedRxQueueDevice?[] sides;
        lock (_receiveSidesLock)
        {
            _receiveSidesClosing = true;
            sides = (GuardedRxQueueDevice?[])_receiveSides.Clone();
        }

        long returned = 0;
        var failures = new List<string>();
        for (int queue = 0; queue < sides.Length; queue++)
        {
            try
            {
                returned += sides[queue]?.Close() ?? 0;
            }
            catch (Exception exception)
            {
                failures.Add($"closing rx{queue} failed: {exception.Message}");
            }
        }

        return (returned, failures);
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
