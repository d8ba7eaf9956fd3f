using Netmem.Stack.Parsing;

namespace Netmem.Stack.Sockets;

/// <summary>
/// The flow a batch's previous packet was routed by and the socket it went to, so that the next packet of the same
/// flow (in a batch from one RX queue, the common case) skips the flow's hash and the dictionary look-up.
/// </summary>
/// <remarks>
/// <para>Why it stays exact: the demultiplexer bumps its routes version after every change to its bindings (bind,
/// unbind, the unmatched consumer), and a remembered route is used only while the version it was looked up under is
/// still the current one. The version is read before the look-up, so a change the look-up missed bumps the version
/// after that read and the route is never used again; a change the look-up saw was followed by its bump before the
/// read, or it is seen by the read. A packet routed by memory therefore goes where a look-up at its version read
/// would have sent it, which is the same race a look-up has with a concurrent unbind.</para>
/// <para>One per batch, owned by the one actor that dispatches the batch, so its fields need no synchronisation.</para>
/// </remarks>
internal struct LastRoute
{
    private FlowKey _flow;
    private SocketConsumer? _consumer;
    private int _version;

    /// <summary>The socket <paramref name="flow"/> went to, if it was the last flow routed and the bindings have not changed since.</summary>
    public readonly bool TryRecall(in FlowKey flow, int version, out SocketConsumer consumer)
    {
        if (_consumer is not null && _version == version && _flow.Equals(flow))
        {
            consumer = _consumer;
            return true;
        }

        consumer = null!;
        return false;
    }

    /// <summary>Remembers that <paramref name="flow"/> went to <paramref name="consumer"/> under routes version <paramref name="version"/>.</summary>
    public void Remember(in FlowKey flow, int version, SocketConsumer consumer)
    {
        _flow = flow;
        _version = version;
        _consumer = consumer;
    }
}
