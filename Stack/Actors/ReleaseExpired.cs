namespace Netmem.Stack.Actors;

/// <summary>A consumer's timer tick that releases packets whose hold time has passed.</summary>
internal sealed record ReleaseExpired
{
    public static readonly ReleaseExpired Instance = new();

    private ReleaseExpired()
    {
    }
}
