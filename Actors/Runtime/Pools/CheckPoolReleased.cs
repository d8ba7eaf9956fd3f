namespace Netmem.Actors.Pools;

/// <summary>A destroyed pool actor's timer tick: stop once the pool's last page is back.</summary>
internal sealed record CheckPoolReleased
{
    public static readonly CheckPoolReleased Instance = new();

    private CheckPoolReleased()
    {
    }
}
