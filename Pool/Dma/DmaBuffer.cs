namespace Netmem.Pool.Dma;

/// <summary>
/// The memory a pool asks a device to map: a provider's page id, its host address
/// (<see cref="nint.Zero"/> for unreadable device memory) and its length in bytes.
/// </summary>
public readonly record struct DmaBuffer(ulong PageId, nint HostAddress, int Length);
