namespace Netmem.Chaos;

/// <summary>Which device a chaos run binds (<c>--device</c>).</summary>
internal enum ChaosDeviceKind
{
    /// <summary>The simulated NIC with its strict IOMMU model and synthetic traffic (<c>sim</c>).</summary>
    Simulated,

    /// <summary>The Linux kernel through io_uring, capturing real UDP traffic on loopback (<c>uring</c>).</summary>
    Uring,
}
