using Netmem.Pool.Dma;

namespace Netmem.Pool.Tests.Dma;

/// <summary>
/// Passes every call to an inner device after a short, varying pause (sometimes giving up the processor), so a
/// thread in the middle of a device call is likely to be overtaken by destroy: it widens the race windows the
/// destroy design has to close.
/// </summary>
internal sealed class HesitantDevice(IDmaDevice inner) : IDmaDevice
{
    private int _calls;

    public string Name => inner.Name;

    public bool NeedsSync => inner.NeedsSync;

    public ulong Map(DmaBuffer buffer, DmaDirection direction) => inner.Map(buffer, direction);

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        Hesitate();
        inner.Unmap(dmaAddress, length, direction);
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        Hesitate();
        inner.SyncForDevice(dmaAddress, offset, length, direction);
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        Hesitate();
        inner.SyncForCpu(dmaAddress, offset, length, direction);
    }

    private void Hesitate()
    {
        int call = Interlocked.Increment(ref _calls);
        if (call % 7 == 0)
        {
            Thread.Yield();
        }
        else
        {
            Thread.SpinWait(50 * (call % 13));
        }
    }
}
