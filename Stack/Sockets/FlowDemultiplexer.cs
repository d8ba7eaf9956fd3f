using System.Collections.Concurrent;
using Netmem.Pool;
using Netmem.Stack.Parsing;

namespace Netmem.Stack.Sockets;

/// <summary>
/// Routes parsed packets to the <see cref="SocketConsumer"/> bound to their 5-tuple; a packet no consumer wants goes
/// to the unmatched consumer if there is one, else is dropped and counted as "no socket". Dispatch takes ownership
/// of the buffer in every case, so a page never leaks through a routing decision.
/// </summary>
/// <remarks>
/// Look-ups are lock-free and allocation-free (a <see cref="ConcurrentDictionary{TKey,TValue}"/> read with a struct
/// key), so several stack actors may dispatch through one demultiplexer while consumers bind and unbind. Nothing
/// is allocated per packet: a queued packet is a <see cref="ReceivedPacket"/> value whose lease cell is recycled, and
/// drops (no socket, not parsed, a consumer already flooded) do not even take a cell.
/// IP fragments are not reassembled: a first fragment routes by its ports like any packet, while later fragments
/// carry no ports and so match only a flow bound with ports 0, or go to the unmatched consumer.
/// </remarks>
public sealed class FlowDemultiplexer
{
    private readonly ConcurrentDictionary<FlowKey, SocketConsumer> _consumers = new();
    private long _queued;
    private long _droppedNoSocket;
    private long _droppedNotParsed;
    private long _droppedByConsumer;
    private SocketConsumer? _unmatched;

    // The bindings' version for a batch's remembered route (LastRoute): the changes under way in the low half, the
    // changes finished in the high half, moved by one atomic add at the start and one at the end of each change.
    private long _routes;

    /// <param name="unmatched">Receives packets of flows no consumer is bound to; null drops them.</param>
    public FlowDemultiplexer(SocketConsumer? unmatched = null)
    {
        _unmatched = unmatched;
    }

    /// <summary>Receives the parsed packets of flows no consumer is bound to; null drops them ("no socket").</summary>
    public SocketConsumer? Unmatched => Volatile.Read(ref _unmatched);

    /// <summary>Makes <paramref name="consumer"/> the receiver of unmatched flows; false if another consumer already is.</summary>
    public bool TryBindUnmatched(SocketConsumer consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        StartRoutesChange();
        return EndRoutesChange(Interlocked.CompareExchange(ref _unmatched, consumer, null) is null);
    }

    /// <summary>Stops sending unmatched flows to <paramref name="consumer"/> if it receives them (a successor is left alone).</summary>
    public bool UnbindUnmatched(SocketConsumer consumer)
    {
        StartRoutesChange();
        return EndRoutesChange(ReferenceEquals(Interlocked.CompareExchange(ref _unmatched, null, consumer), consumer));
    }

    /// <summary>Flows bound to a socket now.</summary>
    public int BoundFlowCount => _consumers.Count;

    /// <summary>Packets handed to a socket's queue so far (those of a stack's batch counted when the batch ends).</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Packets dropped because no socket was bound to their flow (their pages were returned).</summary>
    public long DroppedNoSocket => Interlocked.Read(ref _droppedNoSocket);

    /// <summary>Frames dropped because they did not parse (their pages were returned).</summary>
    public long DroppedNotParsed => Interlocked.Read(ref _droppedNotParsed);

    /// <summary>Packets a socket refused (queue full or closed; their pages were returned).</summary>
    public long DroppedByConsumer => Interlocked.Read(ref _droppedByConsumer);

    /// <exception cref="FlowAlreadyBoundException">Another consumer holds the flow; the binding is unchanged.</exception>
    public void Bind(FlowKey flow, SocketConsumer consumer)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        StartRoutesChange();
        SocketConsumer bound = EndRoutesChange(_consumers.GetOrAdd(flow, consumer));

        if (!ReferenceEquals(bound, consumer))
        {
            throw new FlowAlreadyBoundException(flow, bound.Name);
        }
    }

    /// <summary>Removes the flow's binding; false if it had none.</summary>
    public bool Unbind(FlowKey flow)
    {
        StartRoutesChange();
        return EndRoutesChange(_consumers.TryRemove(flow, out _));
    }

    /// <summary>
    /// Removes the flow's binding only if <paramref name="consumer"/> holds it, atomically: a closing consumer cannot
    /// unbind the successor that rebound the flow after it.
    /// </summary>
    public bool Unbind(FlowKey flow, SocketConsumer consumer)
    {
        StartRoutesChange();
        return EndRoutesChange(_consumers.TryRemove(KeyValuePair.Create(flow, consumer)));
    }

    /// <summary>The socket bound to <paramref name="flow"/>, if any.</summary>
    public bool TryGetConsumer(FlowKey flow, out SocketConsumer consumer) => _consumers.TryGetValue(flow, out consumer!);

    /// <summary>Routes a frame held in a whole page; takes ownership of the page, whatever happens.</summary>
    /// <exception cref="ArgumentException">The frame bounds or the parsed payload are invalid (checked when a packet is to be queued); the page was returned.</exception>
    public DispatchOutcome Dispatch(NetmemRef page, int frameOffset, int frameLength, in ParsedPacket packet)
    {
        // One packet: the tally is flushed at once, so the counters move as the packet is queued.
        DeliveryTally tally = default;
        LastRoute route = default;
        DispatchOutcome outcome = Dispatch(page, frameOffset, frameLength, packet, ref tally, ref route);
        tally.Flush(this);
        return outcome;
    }

    /// <summary>
    /// <see cref="Dispatch(NetmemRef, int, int, in ParsedPacket)"/> for one frame of a batch: a queued packet is
    /// counted in <paramref name="tally"/>, which the caller flushes when the batch ends, and routed by
    /// <paramref name="route"/> when it is of the batch's previous flow.
    /// </summary>
    internal DispatchOutcome Dispatch(NetmemRef page, int frameOffset, int frameLength, in ParsedPacket packet, ref DeliveryTally tally, ref LastRoute route)
    {
        if (!TryRoute(packet, ref route, out SocketConsumer? consumer, out DispatchOutcome dropped))
        {
            page.ReturnToPool();
            return dropped;
        }

        if (consumer.TryDropBeforeDelivery())
        {
            page.ReturnToPool();
            return CountRefusal();
        }

        ReceivedPacket received;
        try
        {
            received = ReceivedPacket.HandedOver(page, frameOffset, frameLength, packet);
        }
        catch (ArgumentException)
        {
            page.ReturnToPool();
            throw;
        }

        return Deliver(consumer, received, ref tally);
    }

    /// <summary>Routes a frame held at the start of a fragment; takes ownership of the fragment, whatever happens.</summary>
    /// <exception cref="ArgumentException">The frame length or the parsed payload are invalid (checked when a packet is to be queued); the fragment was returned.</exception>
    public DispatchOutcome Dispatch(NetmemFragment fragment, int frameLength, in ParsedPacket packet)
    {
        LastRoute route = default;
        if (!TryRoute(packet, ref route, out SocketConsumer? consumer, out DispatchOutcome dropped))
        {
            fragment.ReturnToPool();
            return dropped;
        }

        if (consumer.TryDropBeforeDelivery())
        {
            fragment.ReturnToPool();
            return CountRefusal();
        }

        ReceivedPacket received;
        try
        {
            received = ReceivedPacket.HandedOver(fragment, frameLength, packet);
        }
        catch (ArgumentException)
        {
            fragment.ReturnToPool();
            throw;
        }

        DeliveryTally tally = default;
        DispatchOutcome outcome = Deliver(consumer, received, ref tally);
        tally.Flush(this);
        return outcome;
    }

    /// <summary>The bound flows and the dispatch counters, for logs.</summary>
    public override string ToString() =>
        $"{BoundFlowCount} flows: queued {Queued}, no socket {DroppedNoSocket}, not parsed {DroppedNotParsed}, refused by consumer {DroppedByConsumer}";

    private bool TryRoute(in ParsedPacket packet, ref LastRoute route, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SocketConsumer? consumer, out DispatchOutcome dropped)
    {
        if (packet.Status != ParseStatus.Ok)
        {
            Interlocked.Increment(ref _droppedNotParsed);
            consumer = null;
            dropped = DispatchOutcome.DroppedNotParsed;
            return false;
        }

        // The version is read before the look-up: see LastRoute for why a remembered route stays exact.
        FlowKey flow = packet.Flow;
        long version = Volatile.Read(ref _routes);
        if (route.TryRecall(flow, version, out consumer))
        {
            dropped = DispatchOutcome.Queued;
            return true;
        }

        if (_consumers.TryGetValue(flow, out consumer) || (consumer = Unmatched) is not null)
        {
            route.Remember(flow, version, consumer);
            dropped = DispatchOutcome.Queued;
            return true;
        }

        Interlocked.Increment(ref _droppedNoSocket);
        dropped = DispatchOutcome.DroppedNoSocket;
        return false;
    }

    // A binding change is bracketed by these two (see LastRoute). A change that throws skips its end and leaves the
    // count of changes under way raised: from then on no route is remembered, which is slower but never wrong.
    private void StartRoutesChange() => Interlocked.Increment(ref _routes);

    /// <summary>Ends the change started by <see cref="StartRoutesChange"/>, passing on its <paramref name="result"/>.</summary>
    private T EndRoutesChange<T>(T result)
    {
        Interlocked.Add(ref _routes, (1L << 32) - 1);
        return result;
    }

    /// <summary>Counts <paramref name="count"/> packets queued by a batch's dispatches (see <see cref="DeliveryTally"/>).</summary>
    internal void AddQueued(int count) => Interlocked.Add(ref _queued, count);

    private DispatchOutcome Deliver(SocketConsumer consumer, in ReceivedPacket received, ref DeliveryTally tally)
    {
        if (consumer.TryDeliverHandedOver(received))
        {
            tally.CountQueued(consumer);
            return DispatchOutcome.Queued;
        }

        return CountRefusal();
    }

    private DispatchOutcome CountRefusal()
    {
        Interlocked.Increment(ref _droppedByConsumer);
        return DispatchOutcome.DroppedByConsumer;
    }
}
