using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// Broken hardware: a background DMA engine keeps writing into the last buffer it was given, about every
/// millisecond, whatever the driver does, so it goes on after the device is unbound. It runs on a thread of its own
/// (not a pool timer, which a loaded machine can starve past the end of the run).
/// </summary>
internal sealed class LingeringDmaDevice : PassThroughDevice, IDisposable
{
    private readonly Thread _engine;
    private volatile bool _stopped;
    private long _lastAddress;

    public LingeringDmaDevice(IommuModel iommu)
        : base(iommu)
    {
        _engine = new Thread(() =>
        {
            while (!_stopped)
            {
                WriteIntoLastBuffer();
                Thread.Sleep(1);
            }
        })
        { IsBackground = true, Name = "lingering DMA engine" };
        _engine.Start();
    }

    public override ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        ulong address = base.Map(buffer, direction);
        Interlocked.Exchange(ref _lastAddress, (long)address);
        return address;
    }

    public void Dispose()
    {
        _stopped = true;
        _engine.Join();
    }

    private void WriteIntoLastBuffer()
    {
        ulong address = (ulong)Interlocked.Read(ref _lastAddress);
        if (address != 0)
        {
            Iommu.DmaWrite(address, 0, [0xAB]);
        }
    }
}
