using System.Collections.Concurrent;
using Netmem.Stack.Sockets;

namespace Netmem.Chaos;

/// <summary>
/// A late-return storm: while armed, consumers hold back every packet they would have disposed; when it fires, all
/// of them are disposed at once, from one task per consumer released together, so the returns pile onto the pools
/// at the instant destroy walks them.
/// </summary>
/// <remarks>
/// A consumer that saw the storm armed just before it fired may add its packet after the returners emptied its
/// queue; that packet simply waits for the next storm, and the run fires once more after every consumer has
/// finished, so nothing stays held back. <see cref="MaxHeldBack"/> caps the hold-back attempts between two fires.
/// </remarks>
internal sealed class LateReturnStorm
{
    /// <summary>The most packets held back, so a storm cannot starve the pools for good.</summary>
    public const int MaxHeldBack = 4096;

    private readonly ConcurrentQueue<ReceivedPacket>[] _heldBack;
    private int _heldBackCount;
    private volatile bool _armed;
    private long _stormReturns;

    public LateReturnStorm(int consumers)
    {
        _heldBack = Enumerable.Range(0, consumers).Select(_ => new ConcurrentQueue<ReceivedPacket>()).ToArray();
    }

    public bool IsArmed => _armed;

    /// <summary>Packets returned by storms so far.</summary>
    public long StormReturns => Interlocked.Read(ref _stormReturns);

    public void Arm() => _armed = true;

    /// <summary>Takes <paramref name="packet"/> from consumer <paramref name="consumer"/> if the storm is gathering.</summary>
    public bool TryHoldBack(int consumer, ReceivedPacket packet)
    {
        if (!_armed || Interlocked.Increment(ref _heldBackCount) > MaxHeldBack)
        {
            return false;
        }

        _heldBack[consumer].Enqueue(packet);
        return true;
    }

    /// <summary>Disarms, then returns every held-back packet at once; completes when all are returned.</summary>
    public async Task FireAsync()
    {
        _armed = false;
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task[] returners = _heldBack.Select(queue => ReturnAllAsync(queue, go.Task)).ToArray();
        go.SetResult();
        await Task.WhenAll(returners).ConfigureAwait(false);
        Interlocked.Exchange(ref _heldBackCount, 0);
    }

    private async Task ReturnAllAsync(ConcurrentQueue<ReceivedPacket> queue, Task go)
    {
        await go.ConfigureAwait(false);
        while (queue.TryDequeue(out ReceivedPacket packet))
        {
            packet.Dispose();
            Interlocked.Increment(ref _stormReturns);
        }
    }
}
