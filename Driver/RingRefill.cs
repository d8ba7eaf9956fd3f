using Netmem.Pool;

namespace Netmem.Driver;

// A ring refill that runs off the driver's thread, under the retry pipeline.
//
// Intent. When a refill cannot map or allocate, retrying with backoff must not block the driver's dispatcher
// thread, so the retries run as a task. Meanwhile that task is the owner of the pool's allocation side: the driver
// makes no Allocate call on the queue until the refill has ended (RxQueue.Refill is non-null), and keeps polling
// with the descriptors it still has. The pages the task allocates must reach exactly one party that returns or uses
// them, even if the driver stops (crash, supervisor stop) while the task runs, in which case the task's result
// message would land in a dead mailbox.
//
// The handshake. One word, Running → Delivered or Running → Abandoned, changed once by compare-and-swap:
//   * the task, when the pipeline ends (success, give-up or cancellation), swaps Running → Delivered and only then
//     tells the driver; if it finds Abandoned instead, it returns the pages itself;
//   * the driver, when stopping with the refill still pending, swaps Running → Abandoned; if it finds Delivered
//     instead, the result message is queued behind the stop and will never be read, so the driver returns the pages.
// Exactly one CAS wins, so exactly one party owns the pages; the loser never touches them. The page list is only
// written by the task before its CAS and only read by the winner after it, so the CAS orders the accesses.
internal sealed class RingRefill
{
    private const int Running = 0;
    private const int Delivered = 1;
    private const int Abandoned = 2;

    private readonly PagePool _pool;
    private readonly int _needed;
    private readonly List<NetmemRef> _pages;
    private int _state;

    public RingRefill(PagePool pool, int needed)
    {
        _pool = pool;
        _needed = needed;
        _pages = new List<NetmemRef>(needed);
    }

    /// <summary>The pages allocated; read only by the party that won the handshake.</summary>
    public IReadOnlyList<NetmemRef> Pages => _pages;

    /// <summary>One attempt of the pipeline: allocates until the ring's gap is filled, keeping what earlier attempts got.</summary>
    public void AllocateRemaining(CancellationToken cancellationToken)
    {
        while (_pages.Count < _needed)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _pages.Add(_pool.Allocate());
        }
    }

    /// <summary>The task's side: true if the driver now owns the pages; false if it had stopped and they went back.</summary>
    public bool TryDeliver()
    {
        if (Interlocked.CompareExchange(ref _state, Delivered, Running) == Running)
        {
            return true;
        }

        ReturnPages();
        return false;
    }

    /// <summary>The stopping driver's side: the pages go back now or, if the task is still running, when it ends.</summary>
    public void Abandon()
    {
        if (Interlocked.CompareExchange(ref _state, Abandoned, Running) == Delivered)
        {
            ReturnPages();
        }
    }

    private void ReturnPages()
    {
        foreach (NetmemRef page in _pages)
        {
            _pool.Return(page);
        }

        _pages.Clear();
    }
}
