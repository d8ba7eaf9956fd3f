namespace Netmem.Driver.Devices;

/// <summary>
/// A device the runtime can bind: the simulated NIC with its strict IOMMU model, the Linux kernel through io_uring,
/// or an embedder's own. The device supervisor binds it, hands each RX queue's pool the queue's DMA API and the
/// driver the queue's receive side, and at unbind tears the binding down.
/// </summary>
/// <remarks>
/// <para>One bind at a time: the supervisor calls <see cref="Bind"/> again only after the previous binding's
/// <see cref="IDeviceBinding.TearDown"/> has returned (rebind after unbind is normal).</para>
/// <para>What the runtime guarantees an implementation, for each binding: every address a pool maps through
/// <see cref="IDeviceBinding.GetDmaDevice"/> is unmapped exactly once or is left to
/// <see cref="IDeviceBinding.TearDown"/> (reported as revoked); <see cref="IDeviceBinding.TearDown"/> is called
/// once, after every pool of the bind was destroyed or revoked and every call into the binding has returned; and no
/// member of the binding or of anything it handed out is called after <see cref="IDeviceBinding.TearDown"/> has
/// returned.</para>
/// </remarks>
public interface INetDevice
{
    /// <summary>The device name (the kernel's netdev name); it names the device's actors and pools.</summary>
    string Name { get; }

    /// <summary>
    /// Brings the device's DMA domain up and prepares <see cref="DeviceBindContext.QueueCount"/> RX queues.
    /// Throws <see cref="DeviceBindException"/>, with what is missing in words, when the device cannot be bound;
    /// nothing stays bound then.
    /// </summary>
    IDeviceBinding Bind(DeviceBindContext context);
}
