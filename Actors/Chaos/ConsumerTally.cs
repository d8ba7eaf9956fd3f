namespace Netmem.Chaos;

/// <summary>What the application consumers of a run did with the packets they read.</summary>
internal sealed class ConsumerTally
{
    private long _read;
    private long _released;
    private long _crashes;

    /// <summary>Packets the applications took from their sockets (delivered).</summary>
    public long Read => Interlocked.Read(ref _read);

    /// <summary>Packets the applications let go: disposed, handed to a storm, or returned after a crash.</summary>
    public long Released => Interlocked.Read(ref _released);

    public long Crashes => Interlocked.Read(ref _crashes);

    public void PacketRead() => Interlocked.Increment(ref _read);

    public void PacketReleased() => Interlocked.Increment(ref _released);

    public void Crashed() => Interlocked.Increment(ref _crashes);
}
