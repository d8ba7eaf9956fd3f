using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>The per-packet parsing and building paths allocate nothing, measured on this thread.</summary>
public sealed class AllocationSpecs
{
    private const int Iterations = 10_000;

    [Fact]
    public void Parsing_ten_thousand_frames_allocates_nothing()
    {
        byte[][] frames = Enumerable.Range(0, 64).Select(seed => RandomFrame.FromSeed(seed).Bytes).ToArray();
        long checksum = ParseAll(frames, 1_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        checksum += ParseAll(frames, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0, checksum);
    }

    [Fact]
    public void Building_ten_thousand_frames_allocates_nothing()
    {
        byte[] buffer = new byte[1518];
        FrameSpec[] specs =
        [
            new(TestFlows.Make(4, IpProtocol.Udp), 64),
            new(TestFlows.Make(6, IpProtocol.Tcp), 1518) { VlanCount = 2, ComputeTransportChecksum = true },
            new(TestFlows.Make(4, IpProtocol.Tcp), 1500) { VlanCount = 1 },
        ];
        long lengths = BuildAll(buffer, specs, 1_000);

        long before = GC.GetAllocatedBytesForCurrentThread();
        lengths += BuildAll(buffer, specs, Iterations);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0, lengths);
    }

    [Fact]
    public void Looking_flows_up_in_a_dictionary_allocates_nothing()
    {
        FlowKey[] flows = Enumerable.Range(0, 256).Select(port => TestFlows.Make(port % 2 == 0 ? 4 : 6, IpProtocol.Udp, destinationPort: (ushort)port)).ToArray();
        Dictionary<FlowKey, int> table = flows.Select((flow, i) => (flow, i)).ToDictionary(entry => entry.flow, entry => entry.i);
        long found = LookUpAll(table, flows, 4);

        long before = GC.GetAllocatedBytesForCurrentThread();
        found += LookUpAll(table, flows, Iterations / flows.Length);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(256 * (4 + (Iterations / 256)), found);
    }

    private static long ParseAll(byte[][] frames, int count)
    {
        long checksum = 0;
        for (int i = 0; i < count; i++)
        {
            if (PacketParser.TryParse(frames[i % frames.Length], out ParsedPacket packet))
            {
                checksum += packet.PayloadLength + packet.Flow.GetHashCode();
            }
        }

        return checksum;
    }

    private static long BuildAll(byte[] buffer, FrameSpec[] specs, int count)
    {
        long lengths = 0;
        for (int i = 0; i < count; i++)
        {
            lengths += FrameBuilder.Write(buffer, specs[i % specs.Length]).PayloadLength;
        }

        return lengths;
    }

    private static long LookUpAll(Dictionary<FlowKey, int> table, FlowKey[] flows, int rounds)
    {
        long found = 0;
        for (int round = 0; round < rounds; round++)
        {
            foreach (FlowKey flow in flows)
            {
                found += table.TryGetValue(flow, out _) ? 1 : 0;
            }
        }

        return found;
    }
}
