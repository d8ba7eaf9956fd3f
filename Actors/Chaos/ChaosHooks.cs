using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Stack.Sockets;

namespace Netmem.Chaos;

/// <summary>
/// Extension points for running chaos against your own code: a device implementation of your own in front of the
/// IOMMU model, an application tap on every packet read, or a different unbind path. The test suite uses them to
/// plant deliberately broken devices, consumers and supervisors and prove that each violation counter moves.
/// </summary>
internal sealed record ChaosHooks
{
    public static readonly ChaosHooks None = new();

    /// <summary>
    /// Wraps the device the pools of one bind map through (argument 1: the IOMMU model on the simulated device, the
    /// real device behind its bookkeeping on io_uring; argument 2: the device's IOMMU model, the oracle). The wrapper
    /// must keep the inner device's <see cref="IDmaDevice.Name"/>.
    /// </summary>
    public Func<IDmaDevice, IommuModel, IDmaDevice>? WrapDevice { get; init; }

    /// <summary>
    /// Sees every packet an application consumer reads, with the socket it came from. Returning true takes the
    /// packet away from the consumer: from then on the tap owns it and must dispose it.
    /// </summary>
    public Func<SocketConsumer, ReceivedPacket, bool>? TapPacket { get; init; }

    /// <summary>Wraps the bind/unbind path of each device.</summary>
    public Func<IDeviceLifecycle, IDeviceLifecycle>? WrapLifecycle { get; init; }
}
