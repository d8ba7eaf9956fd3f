namespace Netmem.Actors.Protocol;

/// <summary>
/// Asks a <see cref="Devices.DeviceSupervisor"/> to unbind its device: driver quiesce, every pool destroyed (every
/// inflight page unmapped), IOMMU domain torn down, then, and only then, the reply <see cref="Unbound"/>. Every
/// request made while an unbind runs, and every later one until the next bind, gets the same <see cref="Unbound"/>.
/// </summary>
public sealed record Unbind
{
    public static readonly Unbind Instance = new();

    private Unbind()
    {
    }
}
