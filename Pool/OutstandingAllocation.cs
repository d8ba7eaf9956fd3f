namespace Netmem.Pool;

/// <summary>A page still lent out, with where it was allocated when leak detection is on.</summary>
public sealed record OutstandingAllocation(NetmemRef Netmem, string? AllocationSite);
