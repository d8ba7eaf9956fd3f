namespace Netmem.Stack.Actors;

// The stack queue actor's protocol.

/// <summary>Asks a <see cref="StackQueueActor"/> for its <see cref="StackQueueStatus"/>.</summary>
public sealed record GetStackQueueStatus
{
    /// <summary>The only instance: the request carries nothing.</summary>
    public static readonly GetStackQueueStatus Instance = new();

    private GetStackQueueStatus()
    {
    }
}

/// <summary>What one stack queue has received: batches and the frames in them it handed to the demultiplexer.</summary>
public sealed record StackQueueStatus(long Batches, long Frames);
