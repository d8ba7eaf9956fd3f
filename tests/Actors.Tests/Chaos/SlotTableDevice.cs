using Netmem.Pool.Dma;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// A device like io_uring's registered-buffer table: its addresses are slots, and a slot freed by an unmap is handed
/// out again by the next map. It checks nothing; the bookkeeping in front of it is what is under test.
/// </summary>
internal sealed class SlotTableDevice : IDmaDevice
{
    private readonly Stack<ulong> _free = new();
    private ulong _next = 0x1000;

    public string Name => "slots";

    public bool NeedsSync => true;

    public int Unmaps { get; private set; }

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        if (_free.TryPop(out ulong reused))
        {
            return reused;
        }

        ulong address = _next;
        _next += 0x1000;
        return address;
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        Unmaps++;
        _free.Push(dmaAddress);
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
    }
}
