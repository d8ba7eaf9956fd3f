using Netmem.Stack.Parsing;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>One frame of a given shape and size from either builder, tagged the same way.</summary>
public static class TestFrames
{
    public const ushort OuterVlanId = 100;
    public const ushort InnerVlanId = 4000;

    public static byte[] Build(
        FrameSource source,
        FlowKey flow,
        int vlanCount,
        int frameLength,
        EtherType outerTagType = EtherType.QinQ,
        byte payloadSeed = 7,
        ushort outerVlanId = OuterVlanId,
        ushort innerVlanId = InnerVlanId)
    {
        int ipVersion = flow.IsIPv4 ? 4 : 6;
        if (source == FrameSource.FrameBuilder)
        {
            byte[] frame = new byte[frameLength];
            var spec = new FrameSpec(flow, frameLength)
            {
                VlanCount = vlanCount,
                OuterVlanId = outerVlanId,
                InnerVlanId = innerVlanId,
                OuterTagType = outerTagType,
                PayloadSeed = payloadSeed,
                ComputeTransportChecksum = true,
            };
            FrameBuilder.Write(frame, spec);
            return frame;
        }

        int payloadLength = frameLength - TestFlows.HeaderLength(ipVersion, flow.Protocol, vlanCount);
        byte[] untagged = PacketDotNetFrames.Build(flow, payloadLength, payloadSeed: payloadSeed);
        return vlanCount switch
        {
            0 => untagged,
            1 => FrameSurgery.WithVlanTags(untagged, (EtherType.Vlan, outerVlanId)),
            _ => FrameSurgery.WithVlanTags(untagged, (outerTagType, outerVlanId), (EtherType.Vlan, innerVlanId)),
        };
    }
}
