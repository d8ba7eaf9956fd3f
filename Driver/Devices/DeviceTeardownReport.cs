namespace Netmem.Driver.Devices;

/// <summary>What a device found when its DMA domain was torn down.</summary>
/// <param name="StillMapped">Mappings still live at teardown, revoked ones included.</param>
/// <param name="LeakedMappings">Mappings still live that no pool had revoked: each one is a leak.</param>
/// <param name="Violations">Violations the device's own checks saw during the bind (0 for a device without checks).</param>
public sealed record DeviceTeardownReport(long StillMapped, long LeakedMappings, long Violations);
