namespace Netmem.Actors.Pools;

/// <summary>Asks a <see cref="PoolActor"/> for its pool's <see cref="Pool.PagePoolInfo"/> (netlink <c>page-pool-get</c>).</summary>
public sealed record GetPoolInfo
{
    public static readonly GetPoolInfo Instance = new();

    private GetPoolInfo()
    {
    }
}
