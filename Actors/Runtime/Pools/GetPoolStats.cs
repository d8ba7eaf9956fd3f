namespace Netmem.Actors.Pools;

/// <summary>Asks a <see cref="PoolActor"/> for its pool's <see cref="Pool.PagePoolStats"/>.</summary>
public sealed record GetPoolStats
{
    public static readonly GetPoolStats Instance = new();

    private GetPoolStats()
    {
    }
}
