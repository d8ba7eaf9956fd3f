namespace Netmem.Stack.Parsing;

/// <summary>
/// What <see cref="FrameBuilder"/> writes: a frame of exactly <see cref="FrameLength"/> bytes (no FCS) carrying
/// <see cref="Flow"/>. The flow's addresses choose IPv4 or IPv6; its protocol must be UDP or TCP.
/// </summary>
public readonly record struct FrameSpec(FlowKey Flow, int FrameLength)
{
    /// <summary>The Ethernet destination; a locally administered address by default.</summary>
    public MacAddress DestinationMac { get; init; } = new(0x02_00_00_00_00_02);

    /// <summary>The Ethernet source; a locally administered address by default.</summary>
    public MacAddress SourceMac { get; init; } = new(0x02_00_00_00_00_01);

    /// <summary>0, 1 or 2 VLAN tags.</summary>
    public int VlanCount { get; init; }

    /// <summary>The first tag's VLAN id (12 bits); used when <see cref="VlanCount"/> ≥ 1.</summary>
    public ushort OuterVlanId { get; init; }

    /// <summary>The second tag's VLAN id (12 bits); used when <see cref="VlanCount"/> is 2.</summary>
    public ushort InnerVlanId { get; init; }

    /// <summary>The outer tag's TPID when there are two tags: 802.1ad (<see cref="EtherType.QinQ"/>) or 802.1Q (<see cref="EtherType.Vlan"/>).</summary>
    public EtherType OuterTagType { get; init; } = EtherType.QinQ;

    /// <summary>The IPv4 TTL or IPv6 hop limit written; 64 by default.</summary>
    public byte HopLimit { get; init; } = 64;

    /// <summary>The IPv4 identification field; ignored for IPv6.</summary>
    public ushort IPv4Identification { get; init; }

    /// <summary>The TCP sequence number written; ignored for UDP.</summary>
    public uint TcpSequence { get; init; }

    /// <summary>TCP flags byte; PSH|ACK by default.</summary>
    public byte TcpFlags { get; init; } = 0x18;

    /// <summary>Fill the UDP/TCP checksum (a pass over the payload). Off, it is left 0.</summary>
    public bool ComputeTransportChecksum { get; init; }

    /// <summary>Payload byte i is <c>(byte)(PayloadSeed + i)</c>, so a reader can check it arrived intact.</summary>
    public byte PayloadSeed { get; init; }
}
