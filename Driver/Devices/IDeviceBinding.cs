using Netmem.Pool;
using Netmem.Pool.Dma;

namespace Netmem.Driver.Devices;

/// <summary>
/// One bind of an <see cref="INetDevice"/>: its DMA domain is up until <see cref="TearDown"/>.
/// </summary>
/// <remarks>
/// Members may be called from several threads: <see cref="GetDmaDevice"/> and <see cref="OpenRxQueue"/> from the
/// supervisor and the driver, the returned DMA APIs from any thread (see <see cref="IDmaDevice"/>).
/// </remarks>
public interface IDeviceBinding
{
    /// <summary>The DMA API the pool of RX queue <paramref name="queue"/> maps, unmaps and syncs through.</summary>
    IDmaDevice GetDmaDevice(int queue);

    /// <summary>
    /// Opens the receive side of RX queue <paramref name="queue"/>: the way frames land in pages of
    /// <paramref name="pool"/>. Called by each driver incarnation when it starts; the previous incarnation's receive
    /// side was closed (<see cref="IRxQueueDevice.Close"/>) before.
    /// </summary>
    IRxQueueDevice OpenRxQueue(int queue, PagePool pool);

    /// <summary>
    /// Tears the DMA domain down and says what it still held. Every mapping still live goes with the domain: the
    /// runtime passes how many of them its pools revoked (left to this teardown on purpose, see
    /// <c>PagePool.RevokeDeviceAccess</c>), so a strict device can tell those from leaks.
    /// When it returns, the device makes no further access to any page of the bind.
    /// </summary>
    DeviceTeardownReport TearDown(long revokedMappings);
}
