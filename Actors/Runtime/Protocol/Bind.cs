namespace Netmem.Actors.Protocol;

/// <summary>
/// Asks a <see cref="Devices.DeviceSupervisor"/> to bind its device: a fresh IOMMU domain, new pools (one per RX
/// queue) and a new driver. Replies <see cref="Bound"/>. Binding a bound device replies the current
/// <see cref="Bound"/>; a bind that arrives during an unbind waits for it to finish.
/// </summary>
public sealed record Bind
{
    public static readonly Bind Instance = new();

    private Bind()
    {
    }
}
