using Netmem.Pool;

namespace Netmem.Actors.Protocol;

/// <summary>The device is bound. <paramref name="Generation"/> counts binds (1, 2, …); the pools are by queue.</summary>
public sealed record Bound(string Device, int Generation, IReadOnlyList<PagePoolInfo> Pools);
