using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;

namespace Netmem.Stack.Tests.Sockets;

/// <summary>
/// A real <see cref="PagePool"/> on a strict IOMMU model, with received frames written into its pages the way the
/// driver's synthetic source writes them.
/// </summary>
public sealed class FramePool : IDisposable
{
    public const int Headroom = 64;

    public FramePool(string name = "stack-tests")
    {
        Iommu = new IommuModel(name);
        Pool = new PagePool(new PagePoolOptions { Device = Iommu, Name = name });
    }

    public IommuModel Iommu { get; }

    public PagePool Pool { get; }

    /// <summary>Pages lent out and not yet returned (the pool's cache and ring do not count).</summary>
    public int Outstanding => Pool.GetOutstandingAllocations().Count;

    public static FlowKey Flow(ushort destinationPort = 5001) => Parsing.TestFlows.Make(4, IpProtocol.Udp, destinationPort: destinationPort);

    /// <summary>Allocates a page and writes a frame of <paramref name="flow"/> at <see cref="Headroom"/>.</summary>
    public (NetmemRef Page, int FrameLength, ParsedPacket Packet) WriteFrame(FlowKey flow, int frameLength = 128, byte payloadSeed = 0)
    {
        NetmemRef page = Pool.Allocate();
        Span<byte> frame = page.GetSpan().Slice(Headroom, frameLength);
        FrameBuilder.Write(frame, new FrameSpec(flow, frameLength) { PayloadSeed = payloadSeed });
        PacketParser.TryParse(frame, out ParsedPacket packet);
        return (page, frameLength, packet);
    }

    public ReceivedPacket Receive(FlowKey flow, int frameLength = 128, byte payloadSeed = 0)
    {
        (NetmemRef page, int length, ParsedPacket packet) = WriteFrame(flow, frameLength, payloadSeed);
        return new ReceivedPacket(page, Headroom, length, packet);
    }

    public ReceivedPacket ReceiveInFragment(FlowKey flow, int frameLength = 128)
    {
        NetmemFragment fragment = Pool.AllocateFragment(frameLength);
        Span<byte> frame = fragment.GetSpan()[..frameLength];
        FrameBuilder.Write(frame, new FrameSpec(flow, frameLength));
        PacketParser.TryParse(frame, out ParsedPacket packet);
        return new ReceivedPacket(fragment, frameLength, packet);
    }

    public void Dispose()
    {
        if (Pool.State == PagePoolState.Active)
        {
            Pool.Destroy();
        }
    }
}
