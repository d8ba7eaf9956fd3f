namespace Netmem.Stack.Tests.Parsing;

/// <summary>Which builder wrote a test frame: the independent one, or the one under test.</summary>
public enum FrameSource
{
    PacketDotNet,
    FrameBuilder,
}
