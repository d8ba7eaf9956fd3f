namespace Netmem.Simulation;

/// <summary>One DMA API violation recorded by the <see cref="IommuModel"/>.</summary>
public sealed record IommuViolation(IommuViolationKind Kind, ulong DmaAddress, string Detail);
