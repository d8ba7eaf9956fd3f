using Netmem.Pool.Memory;

namespace Netmem.Pool.Core;

/// <summary>
/// Where a pool keeps the pages whose mappings were left to the device's domain teardown, until that teardown has
/// returned: their memory goes back to the memory provider only then.
/// </summary>
/// <remarks>
/// <para>Intent. After a revocation, a page released without an unmap call still has a live mapping in the device's
/// domain (an IOMMU entry, a registered io_uring buffer) until the domain is torn down. Freeing its memory before that
/// would let the provider hand memory the device can still write to another pool. So such a page waits here, and
/// <see cref="ReleaseAll"/> (the pool's "the domain is gone") hands every waiting page to the provider and makes every
/// later <see cref="HoldOrRelease"/> free at once.</para>
/// <para>The list is a Treiber stack that is only ever pushed to and taken whole by exchange: nothing pops, so there
/// is no ABA (a push only needs its link to equal the head at the instant its compare-and-swap succeeds), and a chain
/// taken by exchange belongs to its taker alone, so each page is released exactly once. Nodes are objects: this is
/// the slow path of a revoked pool, not the hot path.</para>
/// <para>No page is released before the teardown. A page is released only by a taker of the chain, and a chain is
/// taken only after the torn-down flag was set: by <see cref="ReleaseAll"/> after its own write, or by a holder that
/// read the flag set. The flag is set only by <see cref="ReleaseAll"/>, which the supervisor calls after the teardown
/// returned.</para>
/// <para>No page is stranded. A holder pushes (a full fence) and then reads the flag; <see cref="ReleaseAll"/> sets
/// the flag (a full fence) and then takes the chain. In the single order of these interlocked operations, either the
/// holder's read comes after the flag's write, so the holder sees it and takes the chain itself, or it comes before,
/// and then its push, earlier still, precedes the taker's exchange, which therefore takes the page (or a holder that
/// saw the flag took it first). This is Dekker's pattern: at least one side sees the other.</para>
/// <para><see cref="Waiting"/> goes up before the push and down after each page's release, so it never goes
/// negative, and it reads 0 only when every page that entered has reached the provider: the pool completes its own
/// release (and may dispose the provider) only then.</para>
/// </remarks>
internal sealed class DomainTeardownQuarantine
{
    private Node? _head;
    private int _tornDown;
    private long _waiting;

    /// <summary>Pages waiting for the teardown now.</summary>
    public long Waiting => Interlocked.Read(ref _waiting);

    /// <summary>Whether <see cref="ReleaseAll"/> was called: pages left to the domain go straight to the provider.</summary>
    public bool IsTornDown => Volatile.Read(ref _tornDown) != 0;

    /// <summary>
    /// A page whose mapping was left to the domain: held until the teardown, or released at once when the teardown has
    /// already happened. Any thread; the caller owns the page and gives it up here.
    /// </summary>
    public void HoldOrRelease(ulong pageId, IMemoryProvider provider)
    {
        if (IsTornDown)
        {
            provider.ReleasePage(pageId);
            return;
        }

        Interlocked.Increment(ref _waiting);
        var node = new Node(pageId);
        Node? head = Volatile.Read(ref _head);
        while (true)
        {
            node.Next = head;
            Node? seen = Interlocked.CompareExchange(ref _head, node, head);
            if (seen == head)
            {
                break;
            }

            head = seen;
        }

        // The push above is a full fence, so this read cannot move before it (see the class remarks).
        if (IsTornDown)
        {
            ReleaseTaken(provider);
        }
    }

    /// <summary>The domain is gone: releases every waiting page and lets every later one go straight to the provider.</summary>
    public void ReleaseAll(IMemoryProvider provider)
    {
        Interlocked.Exchange(ref _tornDown, 1);
        ReleaseTaken(provider);
    }

    private void ReleaseTaken(IMemoryProvider provider)
    {
        Node? node = Interlocked.Exchange(ref _head, null);
        while (node is not null)
        {
            Node? next = node.Next;
            try
            {
                provider.ReleasePage(node.PageId);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }

            node = next;
        }
    }

    private sealed class Node(ulong pageId)
    {
        public readonly ulong PageId = pageId;
        public Node? Next;
    }
}
