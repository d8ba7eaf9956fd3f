namespace Netmem.Chaos;

/// <summary>
/// One sequence of operations that faults are decided on, such as the DMA maps of one pool or the packets of one
/// consumer. Its name is stable across runs (device, queue, bind generation, consumer number), so operation
/// <c>n</c> of a stream is the same operation in every run of a seed, whatever the thread interleaving.
/// </summary>
internal sealed class FaultStream
{
    private long _next;

    internal FaultStream(string name)
    {
        Name = name;
        Key = StableKey(name);
    }

    public string Name { get; }

    /// <summary>A 32-bit FNV-1a hash of <see cref="Name"/>: string hashes in .NET are randomized per process.</summary>
    public uint Key { get; }

    /// <summary>How many operations of this stream have been decided on so far.</summary>
    public long Evaluated => Volatile.Read(ref _next);

    /// <summary>Numbers the next operation of the stream (0, 1, 2, …).</summary>
    public long NextSequence() => Interlocked.Increment(ref _next) - 1;

    /// <summary>The operation id faults are decided on: stream key in the high word, sequence in the low word.</summary>
    public long OperationId(long sequence) => ((long)Key << 32) | (uint)sequence;

    private static uint StableKey(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 16777619;
        }

        return hash;
    }
}
