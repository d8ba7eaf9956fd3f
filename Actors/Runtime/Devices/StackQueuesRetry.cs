namespace Netmem.Actors.Devices;

/// <summary>The supervisor's timer while starting: ask the stack for the RX queues again.</summary>
internal sealed record StackQueuesRetry
{
    public static readonly StackQueuesRetry Instance = new();

    private StackQueuesRetry()
    {
    }
}
