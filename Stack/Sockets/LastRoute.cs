using Netmem.Stack.Parsing;

namespace Netmem.Stack.Sockets;

/// <summary>
/// The flow a batch's previous packet was routed by and the socket it went to, so that the next packet of the same
/// flow (in a batch from one RX queue, the common case) skips the flow's hash and the dictionary look-up.
/// </summary>
/// <remarks>
/// <para>Why it stays exact: every change to the demultiplexer's bindings (bind, unbind, the unmatched consumer)
/// raises a count of changes under way before it touches them and, when done, lowers it and bumps a version, in one
/// atomic add; both live in one word, which a dispatch reads once, before any look-up. A route is remembered, and
/// recalled, only under a word with no change under way, and recalled only while the word is the one it was looked
/// up under. So at the read of a word that recalls a route, no change has begun since that look-up's read (it would
/// have raised the count or bumped the version) and every change before it had finished, which is when the look-up
/// saw it: a fresh look-up at that read would find the same socket.</para>
/// <para>One per batch, owned by the one actor that dispatches the batch, so its fields need no synchronisation.</para>
/// </remarks>
internal struct LastRoute
{
    private FlowKey _flow;
    private SocketConsumer? _consumer;
    private long _version;

    /// <summary>The socket <paramref name="flow"/> went to, if it was the last flow routed and the bindings have not changed since.</summary>
    public readonly bool TryRecall(in FlowKey flow, long version, out SocketConsumer consumer)
    {
        if (_consumer is not null && _version == version && _flow.Equals(flow))
        {
            consumer = _consumer;
            return true;
        }

        consumer = null!;
        return false;
    }

    /// <summary>
    /// Remembers that <paramref name="flow"/> went to <paramref name="consumer"/> under routes version
    /// <paramref name="version"/>, unless a change was under way then (such a look-up is not remembered).
    /// </summary>
    public void Remember(in FlowKey flow, long version, SocketConsumer consumer)
    {
        if ((int)version != 0)
        {
            _consumer = null;
            return;
        }

        _flow = flow;
        _version = version;
        _consumer = consumer;
    }
}
