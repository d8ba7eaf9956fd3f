namespace Netmem.Driver;

/// <summary>
/// Tells the driver to stop: stop polling and allocating, end any refill in progress, return every ring page to its
/// pool, then reply <see cref="Quiesced"/>. After it the driver never touches its pools again.
/// </summary>
public sealed record Quiesce
{
    public static readonly Quiesce Instance = new();

    private Quiesce()
    {
    }
}
