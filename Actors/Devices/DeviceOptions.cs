using Akka.Actor;
using Netmem.Driver;
using Netmem.Pool;
using Netmem.Pool.Dma;

namespace Netmem.Actors.Devices;

/// <summary>One device: its IOMMU model, RX queues, pools, driver and unbind timeouts.</summary>
public sealed record DeviceOptions
{
    /// <summary>The device name (the kernel's netdev name); also names its actors.</summary>
    public required string Name { get; init; }

    /// <summary>The device model: its IOMMU domain is created at bind and torn down at unbind.</summary>
    public required IommuModel Iommu { get; init; }

    /// <summary>
    /// The device the pools map through; null maps through <see cref="Iommu"/> itself. Chaos runs put a decorator of
    /// <see cref="Iommu"/> here (failing or slow maps) so the model still judges every call.
    /// </summary>
    public IDmaDevice? PoolDevice { get; init; }

    public int QueueCount { get; init; } = 1;

    /// <summary>
    /// The options of each queue's pool (argument: queue index). The supervisor sets <c>Device</c> and
    /// <c>QueueIndex</c>, and <c>Name</c> when it is null. A shared memory provider may be set here.
    /// </summary>
    public Func<int, PagePoolOptions> PoolOptions { get; init; } = _ => new PagePoolOptions();

    public required DriverOptions Driver { get; init; }

    /// <summary>How the driver is made; the default is <see cref="DriverActor.Props"/>. Tests put probes here.</summary>
    public Func<DriverSetup, Props>? DriverProps { get; init; }

    /// <summary>Bind as soon as the stack has opened the RX queues (otherwise wait for <see cref="Protocol.Bind"/>).</summary>
    public bool BindOnStart { get; init; } = true;

    public TimeSpan QuiesceTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan DestroyTimeout { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan TeardownTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Driver restarts allowed within <see cref="DriverRestartWindow"/> before it is stopped for good.</summary>
    public int MaxDriverRestarts { get; init; } = 10;

    public TimeSpan DriverRestartWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest a whole unbind can take: the sum of the phase timeouts, plus the wait for a driver that
    /// timed out to stop.</summary>
    public TimeSpan MaxUnbindDuration => QuiesceTimeout + QuiesceTimeout + DestroyTimeout + TeardownTimeout;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(Name);
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCount, 1);
        if (QuiesceTimeout <= TimeSpan.Zero || DestroyTimeout <= TimeSpan.Zero || TeardownTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(QuiesceTimeout), "Phase timeouts must be positive.");
        }
    }
}
