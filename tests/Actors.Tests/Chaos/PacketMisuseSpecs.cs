using Netmem.Chaos;
using Netmem.Pool;
using Netmem.Pool.Misuse;
using Netmem.Stack.Parsing;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

public sealed class PacketMisuseSpecs
{
    [Theory]
    [InlineData(MisuseVariant.DoubleReturn, MisuseKind.DoubleReturn)]
    [InlineData(MisuseVariant.ReturnAfterDispose, MisuseKind.DoubleReturn)]
    [InlineData(MisuseVariant.ReadAfterDispose, MisuseKind.UseAfterReturn)]
    public void A_misuse_is_rejected_counted_by_kind_and_leaves_the_pool_intact(object misuse, MisuseKind expected)
    {
        var variant = (MisuseVariant)misuse;
        var pool = new PagePool(new PagePoolOptions());
        var tally = new MisuseTally();

        PacketMisuse.Commit(Packet(pool), variant, tally);

        Assert.Equal(1, tally.RejectedByKind()[expected]);
        Assert.Equal(0, tally.NotRejected);
        Assert.Empty(pool.GetOutstandingAllocations());
        pool.Allocate().ReturnToPool();
    }

    [Theory]
    [InlineData(MisuseVariant.DoubleReturn)]
    [InlineData(MisuseVariant.ReadAfterDispose)]
    public void A_pool_that_does_not_track_its_pages_lets_misuse_through_and_it_is_counted(object misuse)
    {
        var variant = (MisuseVariant)misuse;
        var untracked = new PagePool(new PagePoolOptions { TrackInflight = false });
        var tally = new MisuseTally();

        PacketMisuse.Commit(Packet(untracked), variant, tally);

        Assert.Equal(1, tally.NotRejected);
    }

    private static ReceivedPacket Packet(PagePool pool)
    {
        NetmemRef page = pool.Allocate();
        FlowKey flow = ChaosFlows.ForConsumer(0)[0];
        FrameLayout layout = FrameBuilder.Write(page.GetSpan(), new FrameSpec(flow, 128));
        return new ReceivedPacket(page, 0, layout.FrameLength, PacketParser.Parse(page.GetSpan()[..layout.FrameLength]));
    }
}
