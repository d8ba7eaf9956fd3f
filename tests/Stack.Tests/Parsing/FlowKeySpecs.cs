using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Stack.Tests.Parsing;

public sealed class FlowKeySpecs
{
    private static readonly FlowKey Key = new(TestFlows.Address("10.0.0.1"), TestFlows.Address("10.0.0.2"), 1000, 2000, IpProtocol.Udp);

    private static readonly Dictionary<string, FlowKey> OneFieldChanged = new()
    {
        ["source"] = new FlowKey(TestFlows.Address("10.0.0.9"), Key.Destination, Key.SourcePort, Key.DestinationPort, Key.Protocol),
        ["destination"] = new FlowKey(Key.Source, TestFlows.Address("10.0.0.9"), Key.SourcePort, Key.DestinationPort, Key.Protocol),
        ["source port"] = new FlowKey(Key.Source, Key.Destination, 1001, Key.DestinationPort, Key.Protocol),
        ["destination port"] = new FlowKey(Key.Source, Key.Destination, Key.SourcePort, 2001, Key.Protocol),
        ["protocol"] = new FlowKey(Key.Source, Key.Destination, Key.SourcePort, Key.DestinationPort, IpProtocol.Tcp),
        ["family"] = new FlowKey(TestFlows.Address("::10.0.0.1"), Key.Destination, Key.SourcePort, Key.DestinationPort, Key.Protocol),
    };

    public static TheoryData<string> ChangedFields() => [.. OneFieldChanged.Keys];

    [Theory]
    [MemberData(nameof(ChangedFields))]
    public void Keys_differing_in_any_one_field_are_different(string field)
    {
        FlowKey other = OneFieldChanged[field];

        Assert.False(Key.Equals(other), field);
        Assert.False(Key == other, field);
        Assert.True(Key != other, field);
        Assert.False(Key.Equals((object)other), field);
    }

    [Fact]
    public void Keys_built_from_equal_parts_are_equal_and_hash_alike()
    {
        var copy = new FlowKey(TestFlows.Address("10.0.0.1"), TestFlows.Address("10.0.0.2"), 1000, 2000, IpProtocol.Udp);

        Assert.Equal(Key, copy);
        Assert.True(Key == copy);
        Assert.Equal(Key.GetHashCode(), copy.GetHashCode());
    }

    [Fact]
    public void Reversing_swaps_the_ends_and_twice_gives_the_key_back()
    {
        FlowKey reply = Key.Reversed;

        Assert.Equal((Key.Destination, Key.Source, (ushort)2000, (ushort)1000), (reply.Source, reply.Destination, reply.SourcePort, reply.DestinationPort));
        Assert.NotEqual(Key, reply);
        Assert.Equal(Key, reply.Reversed);
    }

    [Fact]
    public void Flows_differing_only_in_a_port_or_low_address_bits_spread_over_hash_buckets()
    {
        FlowKey[] byPort = Enumerable.Range(0, 65_536)
            .Select(port => new FlowKey(Key.Source, Key.Destination, (ushort)port, 443, IpProtocol.Tcp)).ToArray();
        FlowKey[] byAddress = Enumerable.Range(0, 65_536)
            .Select(host => new FlowKey(IpAddress.FromIPv4(0x0A00_0000u | (uint)host), Key.Destination, 5000, 443, IpProtocol.Tcp)).ToArray();

        foreach (FlowKey[] flows in new[] { byPort, byAddress })
        {
            // 65536 keys into 1024 buckets: a good hash fills every bucket near the mean of 64 (σ ≈ 8); the bounds sit over 4σ out.
            int[] buckets = new int[1024];
            foreach (FlowKey flow in flows)
            {
                buckets[(uint)flow.GetHashCode() % 1024]++;
            }

            Assert.InRange(buckets.Min(), 24, 64);
            Assert.InRange(buckets.Max(), 64, 120);
        }
    }

    [Fact]
    public void The_flow_reads_like_its_endpoints()
    {
        Assert.Equal("Udp 10.0.0.1:1000 -> 10.0.0.2:2000", Key.ToString());
        Assert.Equal("Tcp [2001:db8::17]:40000 -> [fe80::1:2:3:4]:5001", TestFlows.Make(6, IpProtocol.Tcp).ToString());
    }
}
