namespace Netmem.Stack.Parsing;

/// <summary>Where <see cref="FrameBuilder"/> put things in the frame it wrote.</summary>
public readonly record struct FrameLayout(int FrameLength, int PayloadOffset, int PayloadLength);
