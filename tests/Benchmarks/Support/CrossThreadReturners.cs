namespace Netmem.Benchmarks.Support;

/// <summary>
/// The returning side of the cross-thread case: <c>count</c> dedicated threads, each draining its own
/// <see cref="SpscHandoff{T}"/> and giving every item back to its pool. The owner (the benchmark thread) deals items
/// round-robin and then waits until every one has been given back, so a measured batch covers the whole round trip.
/// </summary>
/// <remarks>
/// <para>Completion without a shared atomic: each returner alone writes its own counter (on its own cache line),
/// with a release store after giving the item back; the owner sums the counters with acquire loads. Counters only
/// grow, so once the sum equals the number dealt every item has been given back, and its return is visible.</para>
/// <para>Threads spin (yielding, never sleeping) while idle, so no wake-up latency enters the measurement; on a 2-core
/// machine two returners plus the owner oversubscribe the cores, which the results must be read with.</para>
/// </remarks>
public sealed class CrossThreadReturners<T> : IDisposable
{
    private const int HandoffCapacity = 1024;

    // Each returner's counter gets its own cache line (8 longs apart).
    private const int PaddingLongs = 8;

    private readonly SpscHandoff<T>[] _handoffs;
    private readonly long[] _returned;
    private readonly Thread[] _threads;
    private readonly Action<T> _giveBack;
    private long _dealt;
    private int _next;
    private volatile bool _stopping;

    public CrossThreadReturners(int count, Action<T> giveBack)
    {
        _giveBack = giveBack;
        _handoffs = new SpscHandoff<T>[count];
        _returned = new long[count * PaddingLongs];
        _threads = new Thread[count];
        for (int i = 0; i < count; i++)
        {
            _handoffs[i] = new SpscHandoff<T>(HandoffCapacity);
            int index = i;
            _threads[i] = new Thread(() => Drain(index)) { IsBackground = true, Name = $"returner-{i}" };
            _threads[i].Start();
        }
    }

    /// <summary>Owner only: hands an item to the next returner, spinning while its handoff is full.</summary>
    public void Deal(T item)
    {
        SpscHandoff<T> handoff = _handoffs[_next];
        _next = _next + 1 == _handoffs.Length ? 0 : _next + 1;
        SpinWait spinner = default;
        while (!handoff.TryEnqueue(item))
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }

        _dealt++;
    }

    /// <summary>Owner only: waits until every item dealt so far has been given back.</summary>
    public void WaitUntilAllReturned()
    {
        SpinWait spinner = default;
        while (ReturnedCount() != _dealt)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        foreach (Thread thread in _threads)
        {
            thread.Join();
        }
    }

    private long ReturnedCount()
    {
        long total = 0;
        for (int i = 0; i < _handoffs.Length; i++)
        {
            total += Volatile.Read(ref _returned[i * PaddingLongs]);
        }

        return total;
    }

    private void Drain(int index)
    {
        SpscHandoff<T> handoff = _handoffs[index];
        ref long returned = ref _returned[index * PaddingLongs];
        SpinWait spinner = default;
        while (!_stopping)
        {
            if (handoff.TryDequeue(out T item))
            {
                _giveBack(item);
                Volatile.Write(ref returned, returned + 1);
                spinner.Reset();
            }
            else
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
    }
}
