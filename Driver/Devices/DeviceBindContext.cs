namespace Netmem.Driver.Devices;

/// <summary>What a bind asks of a device.</summary>
/// <param name="QueueCount">RX queues to prepare; each gets its own pool and receive side.</param>
/// <param name="PageSize">The size of every pool page the device receives into (bytes).</param>
/// <param name="RingSize">RX descriptors per queue: the most pages the driver posts to one queue at once.</param>
public sealed record DeviceBindContext(int QueueCount, int PageSize, int RingSize);
