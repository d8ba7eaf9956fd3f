namespace Netmem.Stack.Parsing;

/// <summary>How far <see cref="PacketParser.TryParse"/> got.</summary>
public enum ParseStatus : byte
{
    /// <summary>Every header up to the transport payload was read (or, for a non-first fragment, up to the IP payload).</summary>
    Ok,

    /// <summary>The frame ends inside a header, or before the length an IP header claims.</summary>
    Truncated,

    /// <summary>Well formed so far, but a layer the parser does not handle: not IPv4/IPv6, a third VLAN tag, not TCP/UDP, an IPv6 jumbogram.</summary>
    Unsupported,

    /// <summary>A header contradicts itself or its neighbours: wrong IP version, IHL &lt; 5, lengths that do not add up, TCP data offset &lt; 5.</summary>
    Malformed,
}
