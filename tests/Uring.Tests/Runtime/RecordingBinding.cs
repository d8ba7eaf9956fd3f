using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Dma;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>One bind of the real device with the <see cref="DmaOracle"/> in front of everything it hands out.</summary>
internal sealed class RecordingBinding(UringBinding inner, DmaOracle oracle, FaultPlan faults) : IDeviceBinding
{
    private readonly RecordingDmaDevice?[] _dma = new RecordingDmaDevice?[inner.QueueCount];
    private int _opens;

    public UringBinding Inner => inner;

    public DmaOracle Oracle => oracle;

    /// <summary>Receive sides opened (one per driver incarnation and queue).</summary>
    public int RxOpens => Volatile.Read(ref _opens);

    public IDmaDevice GetDmaDevice(int queue)
    {
        using DmaOracle.CallScope call = oracle.Enter("get DMA API");
        lock (_dma)
        {
            return _dma[queue] ??= new RecordingDmaDevice(inner.GetDmaDevice(queue), oracle);
        }
    }

    public IRxQueueDevice OpenRxQueue(int queue, PagePool pool)
    {
        using DmaOracle.CallScope call = oracle.Enter("open receive queue");
        Interlocked.Increment(ref _opens);
        return new RecordingRxQueue(inner.OpenRxQueue(queue, pool), oracle, faults);
    }

    public DeviceTeardownReport TearDown(long revokedMappings)
    {
        using DmaOracle.CallScope call = oracle.Enter("teardown");
        oracle.OnTearingDown();
        DeviceTeardownReport report = inner.TearDown(revokedMappings);
        if (report.StillMapped != oracle.LiveAtTeardown)
        {
            oracle.Flag($"bind {oracle.Generation}: the device found {report.StillMapped} mappings at teardown, the oracle {oracle.LiveAtTeardown}");
        }

        return report;
    }
}
