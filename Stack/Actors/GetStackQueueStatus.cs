namespace Netmem.Stack.Actors;

/// <summary>Asks a <see cref="StackQueueActor"/> for its <see cref="StackQueueStatus"/>.</summary>
public sealed record GetStackQueueStatus
{
    public static readonly GetStackQueueStatus Instance = new();

    private GetStackQueueStatus()
    {
    }
}
