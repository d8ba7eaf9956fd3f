using System.Net;
using Netmem.Stack.Parsing;
using Xunit;

namespace Netmem.Stack.Tests.Parsing;

public sealed class IpAddressSpecs
{
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("10.1.2.3")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("2001:db8::ff00:42:8329")]
    [InlineData("fe80::1")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    public void An_address_survives_the_round_trip_through_IPAddress(string text)
    {
        IPAddress original = IPAddress.Parse(text);

        IpAddress address = IpAddress.From(original);

        Assert.Equal(original, address.ToIPAddress());
        Assert.Equal(original.ToString(), address.ToString());
        Assert.Equal(original.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork, address.IsIPv4);
    }

    [Fact]
    public void An_ipv4_address_is_held_ipv4_mapped_as_dual_stack_sockets_hold_it()
    {
        IpAddress v4 = IpAddress.From(IPAddress.Parse("192.0.2.1"));

        Assert.Equal(IpAddress.From(IPAddress.Parse("::ffff:192.0.2.1")), v4);
        Assert.Equal(0xC000_0201u, v4.ToIPv4());
    }

    [Fact]
    public void Asking_an_ipv6_address_for_its_ipv4_value_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => IpAddress.From(IPAddress.Parse("2001:db8::1")).ToIPv4());
    }

    [Fact]
    public void Writing_gives_network_order_bytes_four_for_ipv4_and_sixteen_for_ipv6()
    {
        Span<byte> bytes = stackalloc byte[16];

        Assert.Equal(4, IpAddress.From(IPAddress.Parse("1.2.3.4")).WriteTo(bytes));
        Assert.Equal([1, 2, 3, 4], bytes[..4].ToArray());
        Assert.Equal(16, IpAddress.From(IPAddress.Parse("2001:db8::1")).WriteTo(bytes));
        Assert.Equal(IPAddress.Parse("2001:db8::1").GetAddressBytes(), bytes.ToArray());
    }

    [Fact]
    public void Addresses_order_as_their_bytes()
    {
        string[] sorted = ["::1", "10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2", "fe80::1"];
        IpAddress[] addresses = sorted.Reverse().Select(text => IpAddress.From(IPAddress.Parse(text))).ToArray();

        Array.Sort(addresses);

        Assert.Equal(sorted, addresses.Select(a => a.ToString()));
    }

    [Fact]
    public void A_mac_address_reads_and_writes_six_bytes_and_prints_colon_separated()
    {
        byte[] bytes = [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x01];

        MacAddress mac = MacAddress.Read(bytes);
        byte[] written = new byte[6];
        mac.WriteTo(written);

        Assert.Equal(0x02AA_BBCC_DD01UL, mac.Value);
        Assert.Equal(bytes, written);
        Assert.Equal("02:aa:bb:cc:dd:01", mac.ToString());
    }
}
