using Netmem.Pool.Dma;

namespace Netmem.Actors.Devices.Guard;

/// <summary>One queue's DMA API behind the bind's <see cref="DeviceCallGuard"/>.</summary>
internal sealed class GuardedDmaDevice : IDmaDevice
{
    private readonly IDmaDevice _inner;
    private readonly DeviceCallGuard _guard;
    private readonly int _queue;

    public GuardedDmaDevice(IDmaDevice inner, DeviceCallGuard guard, int queue)
    {
        _inner = inner;
        _guard = guard;
        _queue = queue;
    }

    public string Name => _inner.Name;

    public bool NeedsSync => _inner.NeedsSync;

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        if (!_guard.TryEnter(DeviceCallKind.Map, _queue, 0, out int slot))
        {
            throw new DmaMapException($"{Name}: the page was not mapped: the device's access was revoked by its unbind.");
        }

        try
        {
            return _inner.Map(buffer, direction);
        }
        finally
        {
            _guard.Exit(slot);
        }
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        int slot = Enter(DeviceCallKind.Unmap, dmaAddress);
        try
        {
            _inner.Unmap(dmaAddress, length, direction);
        }
        finally
        {
            _guard.Exit(slot);
        }
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        int slot = Enter(DeviceCallKind.SyncForDevice, dmaAddress);
        try
        {
            _inner.SyncForDevice(dmaAddress, offset, length, direction);
        }
        finally
        {
            _guard.Exit(slot);
        }
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        int slot = Enter(DeviceCallKind.SyncForCpu, dmaAddress);
        try
        {
            _inner.SyncForCpu(dmaAddress, offset, length, direction);
        }
        finally
        {
            _guard.Exit(slot);
        }
    }

    private int Enter(DeviceCallKind kind, ulong dmaAddress) =>
        _guard.TryEnter(kind, _queue, dmaAddress, out int slot) ? slot : throw new DeviceAccessRevokedException(Name, kind);
}
