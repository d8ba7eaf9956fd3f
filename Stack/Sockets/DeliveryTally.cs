namespace Netmem.Stack.Sockets;

/// <summary>
/// The delivered counts of one batch of dispatches, kept in plain fields while the batch runs and added to the
/// socket's <see cref="SocketConsumer.Delivered"/> and the demultiplexer's <see cref="FlowDemultiplexer.Queued"/>
/// when it ends (<see cref="Flush"/>), instead of one atomic increment of each per packet.
/// </summary>
/// <remarks>
/// <para>Intent: both counters are shared by every stack actor writing to the socket, so each increment is a locked
/// instruction (8–15 ns on the machine of BENCHMARKS.md §7.1), two per packet on the stack's busiest path. A batch's
/// packets are dispatched by one actor on one thread, so it can count them in a local value and publish the sum with
/// one atomic add per counter; only the owner of the tally touches its fields.</para>
/// <para>Why it stays exact: every queued packet is counted in the tally before anything else can fail, and the
/// caller flushes in a <c>finally</c>, so the totals are the same as counting one at a time; they only appear later,
/// when the batch ends (at most one batch of 64 packets behind the queue). The tally follows one socket at a time:
/// a packet for another socket first flushes the count of the previous one, so a batch of one flow (the common case)
/// makes one add per counter and a batch of many flows still counts each socket exactly.</para>
/// </remarks>
internal struct DeliveryTally
{
    private SocketConsumer? _socket;
    private int _socketCount;
    private int _queued;

    /// <summary>Counts one packet queued on <paramref name="socket"/>.</summary>
    public void CountQueued(SocketConsumer socket)
    {
        if (!ReferenceEquals(socket, _socket))
        {
            FlushSocket();
            _socket = socket;
        }

        _socketCount++;
        _queued++;
    }

    /// <summary>Adds what was counted to the socket's and <paramref name="demultiplexer"/>'s counters, and starts over.</summary>
    public void Flush(FlowDemultiplexer demultiplexer)
    {
        FlushSocket();
        if (_queued != 0)
        {
            demultiplexer.AddQueued(_queued);
            _queued = 0;
        }
    }

    private void FlushSocket()
    {
        if (_socketCount != 0)
        {
            _socket!.AddDelivered(_socketCount);
            _socketCount = 0;
        }

        _socket = null;
    }
}
