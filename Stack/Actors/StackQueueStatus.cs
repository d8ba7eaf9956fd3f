namespace Netmem.Stack.Actors;

/// <summary>What one stack queue has received: batches and the frames in them it handed to the demultiplexer.</summary>
public sealed record StackQueueStatus(long Batches, long Frames);
