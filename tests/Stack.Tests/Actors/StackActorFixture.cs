using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;

namespace Netmem.Stack.Tests.Actors;

/// <summary>Pages holding real frames, as a driver would hand them over.</summary>
internal static class StackActorFixture
{
    public static readonly FlowKey Bound = new(IpAddress.FromIPv4(0x0A00_0001), IpAddress.FromIPv4(0x0A00_0002), 1111, 5000, IpProtocol.Udp);

    public static readonly FlowKey Unbound = new(IpAddress.FromIPv4(0x0A00_0003), IpAddress.FromIPv4(0x0A00_0002), 2222, 5000, IpProtocol.Udp);

    public static RxFrame Frame(PagePool pool, FlowKey flow, int length = 128)
    {
        NetmemRef page = pool.Allocate();
        int written = FrameBuilder.Write(page.GetSpan(), new FrameSpec(flow, length)).FrameLength;
        return new RxFrame(page, 0, written);
    }

    /// <summary>A page holding <paramref name="payload"/> alone, as a UDP socket hands a datagram over.</summary>
    public static RxFrame Payload(PagePool pool, byte[] payload)
    {
        NetmemRef page = pool.Allocate();
        payload.CopyTo(page.GetSpan());
        return new RxFrame(page, 0, payload.Length);
    }

    public static RxFrame Garbage(PagePool pool)
    {
        NetmemRef page = pool.Allocate();
        page.GetSpan()[..20].Fill(0xEE);
        return new RxFrame(page, 0, 20);
    }

    public static int Lent(PagePool pool) => pool.GetOutstandingAllocations().Count;

    /// <summary>Rents a batch from a pool that is known to have room.</summary>
    public static RxBatch Rent(RxBatchPool batches)
    {
        Xunit.Assert.True(batches.TryRent(out RxBatch? batch), $"{batches.LentCount} of {batches.MaxLent} batches are out");
        return batch;
    }
}
