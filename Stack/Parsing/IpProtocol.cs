namespace Netmem.Stack.Parsing;

/// <summary>IANA protocol numbers: the IPv4 protocol field and the IPv6 next-header chain.</summary>
public enum IpProtocol : byte
{
    IPv6HopByHop = 0,
    Icmp = 1,
    Tcp = 6,
    Udp = 17,
    IPv6Routing = 43,
    IPv6Fragment = 44,
    IcmpV6 = 58,
    IPv6NoNextHeader = 59,
    IPv6DestinationOptions = 60,
}
