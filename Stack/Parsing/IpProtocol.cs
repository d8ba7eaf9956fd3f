namespace Netmem.Stack.Parsing;

/// <summary>IANA protocol numbers: the IPv4 protocol field and the IPv6 next-header chain.</summary>
public enum IpProtocol : byte
{
    /// <summary>IPv6 hop-by-hop options extension header; the parser skips it to find the transport header.</summary>
    IPv6HopByHop = 0,
    /// <summary>ICMP for IPv4.</summary>
    Icmp = 1,
    /// <summary>TCP: the packet carries ports and is delivered to a bound flow.</summary>
    Tcp = 6,
    /// <summary>UDP: the packet carries ports and is delivered to a bound flow.</summary>
    Udp = 17,
    /// <summary>IPv6 routing extension header; the parser skips it.</summary>
    IPv6Routing = 43,
    /// <summary>IPv6 fragment extension header; the parser records the fragment offset and skips it.</summary>
    IPv6Fragment = 44,
    /// <summary>ICMP for IPv6.</summary>
    IcmpV6 = 58,
    /// <summary>IPv6 "no next header": nothing follows the IPv6 header chain.</summary>
    IPv6NoNextHeader = 59,
    /// <summary>IPv6 destination options extension header; the parser skips it.</summary>
    IPv6DestinationOptions = 60,
}
