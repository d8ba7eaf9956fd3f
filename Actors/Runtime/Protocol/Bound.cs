using Netmem.Pool;

namespace Netmem.Actors.Protocol;

/// <summary>The device is bound. <paramref name="Generation"/> numbers bind attempts (1, 2, …; a refused bind uses one up); the pools are by queue.</summary>
public sealed record Bound(string Device, int Generation, IReadOnlyList<PagePoolInfo> Pools);
