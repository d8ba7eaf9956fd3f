using System.Runtime.InteropServices;

namespace Netmem.Pool.Core;

/// <summary>
/// The lock-free list that freed tracking items go back through: the seed's <c>release_items</c> llist. Any
/// thread pushes; the pool's single allocating owner takes the whole list at once and keeps it as its private
/// <c>hold_items</c> list.
/// </summary>
/// <remarks>
/// <para>Why there is no ABA: the classic Treiber-stack ABA hits a <em>pop</em> that compares the head and then
/// follows a stale next pointer. Here nothing pops: the consumer swaps the head for empty and owns the chain it got.
/// A push only needs its link to equal the head at the instant its swap succeeds, and that is exactly what a
/// successful compare-and-swap checks; the head having changed and changed back in between does not matter,
/// because the pushed item then links to whatever that head now is.</para>
/// <para>Links live in the free item's <see cref="ItemSlot.Page"/> (the kernel's <c>lentry</c> union). The link is
/// written before the publishing swap (a full fence), and the consumer's exchange is also a full fence, so it sees
/// every link of the chain it took.</para>
/// </remarks>
internal sealed class ReleasedItemList
{
    public const int Empty = -1;

    private PaddedHead _head = new() { Value = Empty };

    public void Push(int itemId, ref ItemSlot slot)
    {
        int head = Volatile.Read(ref _head.Value);
        while (true)
        {
            slot.Page = (ulong)(long)head;
            int seen = Interlocked.CompareExchange(ref _head.Value, itemId, head);
            if (seen == head)
            {
                return;
            }

            head = seen;
        }
    }

    /// <summary>Takes every item pushed so far; returns the first id of the chain or <see cref="Empty"/>.</summary>
    public int TakeAll() => Interlocked.Exchange(ref _head.Value, Empty);

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PaddedHead
    {
        [FieldOffset(64)]
        public int Value;
    }
}
