namespace Netmem.Stack.Parsing;

/// <summary>The EtherType values the parser and builder know (IEEE 802 numbers).</summary>
public enum EtherType : ushort
{
    /// <summary>No EtherType was read: the frame is shorter than an Ethernet header.</summary>
    None = 0,
    /// <summary>An IPv4 packet follows the Ethernet header.</summary>
    IPv4 = 0x0800,
    /// <summary>An ARP message; the parser stops there (<see cref="ParseStatus.Unsupported"/>).</summary>
    Arp = 0x0806,
    /// <summary>An 802.1Q VLAN tag; the parser reads its VLAN id and goes on with the EtherType after it.</summary>
    Vlan = 0x8100,
    /// <summary>An IPv6 packet follows the Ethernet header.</summary>
    IPv6 = 0x86DD,
    /// <summary>An 802.1ad service (outer) VLAN tag, usually followed by an 802.1Q tag.</summary>
    QinQ = 0x88A8,
}
