namespace Netmem.Stack.Actors;

// The undelivered-batch reclaimer's protocol.

/// <summary>Asks the <see cref="UndeliveredBatchReclaimer"/> how many pages it returned (replies a <see cref="long"/>).</summary>
public sealed record GetReclaimedCount
{
    public static readonly GetReclaimedCount Instance = new();

    private GetReclaimedCount()
    {
    }
}
