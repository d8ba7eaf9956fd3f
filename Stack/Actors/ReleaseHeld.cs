namespace Netmem.Stack.Actors;

/// <summary>Tells a consumer to dispose every packet it holds; it replies <see cref="HeldReleased"/>.</summary>
public sealed record ReleaseHeld
{
    public static readonly ReleaseHeld Instance = new();

    private ReleaseHeld()
    {
    }
}
