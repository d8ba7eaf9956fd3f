using Netmem.Stack.Parsing;

namespace Netmem.Stack.Tests.Parsing;

/// <summary>An IPv6 extension header for <see cref="FrameSurgery.WithIPv6ExtensionHeaders"/>.</summary>
public sealed record ExtensionHeader(IpProtocol Type, int Units = 1, int FragmentOffset = 0, bool MoreFragments = false)
{
    public int Length => Type == IpProtocol.IPv6Fragment ? 8 : Units * 8;

    public static ExtensionHeader HopByHop(int units = 1) => new(IpProtocol.IPv6HopByHop, units);

    public static ExtensionHeader Routing(int units = 1) => new(IpProtocol.IPv6Routing, units);

    public static ExtensionHeader DestinationOptions(int units = 1) => new(IpProtocol.IPv6DestinationOptions, units);

    public static ExtensionHeader Fragment(int offset, bool more) => new(IpProtocol.IPv6Fragment, FragmentOffset: offset, MoreFragments: more);
}
