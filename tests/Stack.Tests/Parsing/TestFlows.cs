using System.Net;
using Netmem.Stack.Parsing;

namespace Netmem.Stack.Tests.Parsing;

public static class TestFlows
{
    public static FlowKey Make(int ipVersion, IpProtocol protocol, ushort sourcePort = 40000, ushort destinationPort = 5001) =>
        ipVersion == 4
            ? new FlowKey(Address("10.1.2.3"), Address("192.168.200.17"), sourcePort, destinationPort, protocol)
            : new FlowKey(Address("2001:db8::17"), Address("fe80::1:2:3:4"), sourcePort, destinationPort, protocol);

    public static IpAddress Address(string text) => IpAddress.From(IPAddress.Parse(text));

    /// <summary>Bytes of headers for the given shape, counted here independently of the code under test.</summary>
    public static int HeaderLength(int ipVersion, IpProtocol protocol, int vlanCount) =>
        14 + (4 * vlanCount) + (ipVersion == 4 ? 20 : 40) + (protocol == IpProtocol.Udp ? 8 : 20);
}
