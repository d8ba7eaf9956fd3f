using System.Threading.Tasks.Sources;

namespace Netmem.Stack.Sockets;

/// <summary>
/// One reader's wait on a <see cref="SocketQueue{T}"/>: the <see cref="ValueTask{TResult}"/> that
/// <c>WaitToReadAsync</c> returns when nothing is queued, completed once by the write, the close or the cancellation
/// that ends it.
/// </summary>
/// <remarks>
/// <para>Exactly one party completes a wait: the queue keeps its waiters in a list under a lock, and only whoever
/// removes a waiter from that list (a write's wake-up, the close, or the wait's own cancellation) completes it.</para>
/// <para>The result is set on the thread pool, from this object queued as a work item, never on the writer's thread:
/// a reader's continuation cannot run inside the stack's write, and queuing allocates nothing.</para>
/// <para>A reusable waiter serves the queue's waits that cannot be cancelled, one at a time: it is claimed by
/// compare-and-swap on <see cref="_free"/> and freed again when its result has been read, which the
/// <see cref="ValueTask{TResult}"/> contract allows only once.</para>
/// </remarks>
internal sealed class SocketQueueWaiter : IValueTaskSource<bool>, IThreadPoolWorkItem
{
    private readonly bool _reusable;
    private ManualResetValueTaskSourceCore<bool> _core;
    private CancellationTokenRegistration _cancellation;
    private bool _result;
    private Exception? _error;
    private int _free;

    public SocketQueueWaiter(bool reusable)
    {
        _reusable = reusable;
        _free = reusable ? 1 : 0;
    }

    /// <summary>The wait, for the reader to await.</summary>
    public ValueTask<bool> Wait => new(this, _core.Version);

    /// <summary>Claims the reusable waiter; false while another wait holds it.</summary>
    public bool TryClaim() => Interlocked.CompareExchange(ref _free, 0, 1) == 1;

    /// <summary>Ends the wait with <paramref name="cancel"/> if that token is cancelled first; call once, after the waiter is listed.</summary>
    public void CancelWith(CancellationToken cancel, Action<object?, CancellationToken> onCancelled, object queue) =>
        _cancellation = cancel.UnsafeRegister(onCancelled, queue);

    /// <summary>Completes the wait with <paramref name="result"/> or <paramref name="error"/>; only the party that unlisted it calls this.</summary>
    public void Complete(bool result, Exception? error = null)
    {
        _result = result;
        _error = error;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        _cancellation.Unregister();
        if (_error is null)
        {
            _core.SetResult(_result);
        }
        else
        {
            _core.SetException(_error);
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        // A second read of one wait is refused by the core (its version moved on) and must not free the waiter again;
        // nor must a read before the wait completed, which the core refuses too: the waiter is still listed, and freed
        // now it would be claimed and listed a second time, then completed twice.
        bool thisWait = token == _core.Version && _core.GetStatus(token) != ValueTaskSourceStatus.Pending;
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            if (_reusable && thisWait)
            {
                _core.Reset();
                _error = null;
                _cancellation = default;
                Volatile.Write(ref _free, 1);
            }
        }
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
