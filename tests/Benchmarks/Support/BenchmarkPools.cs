using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Benchmarks.Support;

/// <summary>Pools as the kernel bench creates them: order-0 (4 KiB) pages, no DMA sync, 1024-entry ring by default.</summary>
public static class BenchmarkPools
{
    public const int PageSize = 4096;

    public static PagePool Create(bool trackInflight, IDmaDevice? device = null, int poolSize = 1024) =>
        new(new PagePoolOptions
        {
            PageSize = PageSize,
            PoolSize = poolSize,
            Device = device,
            TrackInflight = trackInflight,
            Name = trackInflight ? "bench-tracked" : "bench-untracked",
        });

    public static IDmaDevice CreateDevice(DeviceKind kind) => kind switch
    {
        DeviceKind.NoOp => new NoOpDmaDevice(),
        DeviceKind.IommuModel => new IommuModel("bench0", needsSync: false),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown device kind."),
    };
}
