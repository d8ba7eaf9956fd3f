namespace Netmem.Stack.Actors;

// The undelivered-batch reclaimer's protocol.

/// <summary>Asks the <see cref="UndeliveredBatchReclaimer"/> how many pages it returned (replies a <see cref="long"/>).</summary>
public sealed record GetReclaimedCount
{
    /// <summary>The only instance: the request carries nothing.</summary>
    public static readonly GetReclaimedCount Instance = new();

    private GetReclaimedCount()
    {
    }
}
