using Netmem.Stack.Parsing;

namespace Netmem.Driver.Tests;

internal static class TestFlows
{
    public static readonly FlowKey UdpV4 = new(IpAddress.FromIPv4(0x0A00_0001), IpAddress.FromIPv4(0x0A00_0002), 1234, 5000, IpProtocol.Udp);

    public static readonly FlowKey TcpV6 = new(new IpAddress(0x2001_0db8_0000_0000, 1), new IpAddress(0x2001_0db8_0000_0000, 2), 40000, 443, IpProtocol.Tcp);
}
