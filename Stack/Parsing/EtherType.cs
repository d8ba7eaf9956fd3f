namespace Netmem.Stack.Parsing;

/// <summary>The EtherType values the parser and builder know (IEEE 802 numbers).</summary>
public enum EtherType : ushort
{
    None = 0,
    IPv4 = 0x0800,
    Arp = 0x0806,
    Vlan = 0x8100,
    IPv6 = 0x86DD,
    QinQ = 0x88A8,
}
