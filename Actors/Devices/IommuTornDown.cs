namespace Netmem.Actors.Devices;

/// <summary>
/// The IOMMU teardown of unbind <paramref name="UnbindId"/> finished: <paramref name="LeakedMappings"/> were still
/// live, or it threw <paramref name="Failure"/>.
/// </summary>
internal sealed record IommuTornDown(long UnbindId, int LeakedMappings, Exception? Failure);
