using Akka.Actor;
using Netmem.Pool.Misuse;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>
/// The stack's receive path for one RX queue: takes the driver's batches, parses each frame in place in its page
/// (no allocation) and hands it to the socket bound to its flow through the shared <see cref="FlowDemultiplexer"/>.
/// </summary>
/// <remarks>
/// Every page of a batch ends with a socket or back in its pool: the demultiplexer takes ownership of each frame it
/// is given (dropping and returning what no socket takes), and if handling a frame throws, the frames not yet handed
/// on are returned before the actor fails.
/// </remarks>
public sealed class StackQueueActor : ReceiveActor
{
    private readonly FlowDemultiplexer _demultiplexer;
    private readonly KeyValuePair<string, object?>[] _tags;
    private long _frames;
    private long _batches;

    /// <summary>The receive path of RX queue <paramref name="queue"/> of <paramref name="device"/> (the two tag its metrics), delivering through <paramref name="demultiplexer"/>.</summary>
    public StackQueueActor(FlowDemultiplexer demultiplexer, string device, int queue)
    {
        _demultiplexer = demultiplexer;
        _tags = [new("device", device), new("queue", queue)];
        Receive<RxBatch>(Handle);
        Receive<GetStackQueueStatus>(_ => Sender.Tell(new StackQueueStatus(_batches, _frames)));
    }

    /// <summary>The props to start a <see cref="StackQueueActor"/> for RX queue <paramref name="queue"/> of <paramref name="device"/>, delivering through <paramref name="demultiplexer"/>.</summary>
    public static Props Props(FlowDemultiplexer demultiplexer, string device, int queue) =>
        Akka.Actor.Props.Create(() => new StackQueueActor(demultiplexer, device, queue));

    private void Handle(RxBatch batch)
    {
        ReadOnlySpan<RxFrame> frames = batch.Frames;
        int handled = 0;
        int firstStillOwned = 0;
        try
        {
            for (; handled < frames.Length; handled++)
            {
                RxFrame frame = frames[handled];
                ReadOnlySpan<byte> bytes = frame.Netmem.GetSpan().Slice(frame.Offset, frame.Length);
                PacketParser.TryParse(bytes, out ParsedPacket packet);
                firstStillOwned = handled + 1;
                _demultiplexer.Dispatch(frame.Netmem, frame.Offset, frame.Length, packet);
            }
        }
        catch
        {
            // Dispatch takes ownership of the frame it is given, even when it fails; the frames after it (and the
            // frame being parsed, if parsing failed) are still ours to give back.
            ReturnFrom(frames, firstStillOwned);
            throw;
        }
        finally
        {
            _batches++;
            _frames += handled;
            StackMetrics.RecordBatch(_tags, handled);

            // Every page of the batch is now with a socket or back in its pool: this is the batch's last use here.
            batch.Recycle();
        }
    }

    private static void ReturnFrom(ReadOnlySpan<RxFrame> frames, int first)
    {
        for (int i = first; i < frames.Length; i++)
        {
            try
            {
                frames[i].Netmem.ReturnToPool();
            }
            catch (NetmemMisuseException)
            {
                // A handle the pool refuses was not ours to return; the pool is left intact.
            }
        }
    }
}
