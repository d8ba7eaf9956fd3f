using Netmem.Pool;

namespace Netmem.Actors.Pools;

/// <summary>The pool of RX queue <paramref name="QueueIndex"/> is destroyed; no device call for it is made or running.</summary>
public sealed record PoolDestroyed(int QueueIndex, PagePoolDestroyReport Report);
