using Akka.Actor;
using Netmem.Pool.Misuse;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>
/// The stack's receive path for one RX queue: takes the driver's batches, parses each frame in place in its page
/// (no allocation) — or, from a device whose frames are UDP payloads, takes each as a payload of the flow the device
/// declared (<see cref="RxFrameFormat"/>) — and hands it to the socket bound to its flow through the shared
/// <see cref="FlowDemultiplexer"/>.
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

    /// <remarks>
    /// <para>How a frame is read depends on its device (<see cref="RxBatch.Format"/>): an Ethernet frame is parsed, a
    /// UDP payload only described (it is all payload, of the flow its device declared). The choice is made once per
    /// batch, and each reader is a struct handed to one generic loop: the JIT compiles the loop separately for each
    /// struct with its read inlined, so the Ethernet loop is the parser call it always was, with no test per frame,
    /// and both kinds share one ownership argument (below) instead of two copies of it.</para>
    /// <para>Dispatch takes ownership of the frame it is given, even when it fails; if anything throws, the frames after
    /// it (and the frame being read) are still ours to give back.</para>
    /// <para>The packets queued are counted once per batch (<see cref="DeliveryTally"/>), in the <c>finally</c>, so a
    /// batch that fails half-way still counts those it queued.</para>
    /// </remarks>
    private void Handle(RxBatch batch)
    {
        if (batch.Format.IsEthernet)
        {
            HandleFrames(batch, default(EthernetFrames));
        }
        else
        {
            HandleFrames(batch, new UdpPayloads(batch.Format));
        }
    }

    private void HandleFrames<TReader>(RxBatch batch, TReader reader)
        where TReader : struct, IFrameReader
    {
        ReadOnlySpan<RxFrame> frames = batch.Frames;
        int handled = 0;
        int firstStillOwned = 0;
        DeliveryTally delivered = default;
        LastRoute route = default;
        try
        {
            for (; handled < frames.Length; handled++)
            {
                RxFrame frame = frames[handled];
                ReadOnlySpan<byte> bytes = frame.Netmem.GetSpan().Slice(frame.Offset, frame.Length);
                ParsedPacket packet = reader.Read(bytes);
                firstStillOwned = handled + 1;
                _demultiplexer.Dispatch(frame.Netmem, frame.Offset, frame.Length, packet, ref delivered, ref route);
            }
        }
        catch
        {
            ReturnFrom(frames, firstStillOwned);
            throw;
        }
        finally
        {
            delivered.Flush(_demultiplexer);
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

    /// <summary>How one frame of a batch becomes the packet the demultiplexer routes.</summary>
    private interface IFrameReader
    {
        ParsedPacket Read(ReadOnlySpan<byte> frame);
    }

    /// <summary>Whole Ethernet frames: parsed in place.</summary>
    private readonly struct EthernetFrames : IFrameReader
    {
        public ParsedPacket Read(ReadOnlySpan<byte> frame) => PacketParser.Parse(frame);
    }

    /// <summary>UDP payloads with no header: each is all payload, of the flow the device declared.</summary>
    private readonly struct UdpPayloads(RxFrameFormat format) : IFrameReader
    {
        public ParsedPacket Read(ReadOnlySpan<byte> frame) => format.DescribePayload(frame.Length);
    }
}
