using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// Broken hardware: a background DMA engine keeps writing into the last buffer it was given, every few
/// milliseconds, whatever the driver does, so it goes on after the device is unbound.
/// </summary>
internal sealed class LingeringDmaDevice : PassThroughDevice, IDisposable
{
    private readonly Timer _engine;
    private long _lastAddress;

    public LingeringDmaDevice(IommuModel iommu)
        : base(iommu)
    {
        _engine = new Timer(_ => WriteIntoLastBuffer(), null, TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5));
    }

    public override ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        ulong address = base.Map(buffer, direction);
        Interlocked.Exchange(ref _lastAddress, (long)address);
        return address;
    }

    public void Dispose() => _engine.Dispose();

    private void WriteIntoLastBuffer()
    {
        ulong address = (ulong)Interlocked.Read(ref _lastAddress);
        if (address != 0)
        {
            Iommu.DmaWrite(address, 0, [0xAB]);
        }
    }
}
