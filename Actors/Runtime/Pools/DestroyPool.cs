namespace Netmem.Actors.Pools;

/// <summary>
/// Destroys the pool (the sender must own its allocation side: the driver has quiesced). Replies
/// <see cref="PoolDestroyed"/>; asking again replies the same report.
/// </summary>
public sealed record DestroyPool
{
    public static readonly DestroyPool Instance = new();

    private DestroyPool()
    {
    }
}
