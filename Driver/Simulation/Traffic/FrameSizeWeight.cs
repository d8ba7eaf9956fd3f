namespace Netmem.Simulation.Traffic;

/// <summary>One entry of a frame-size mix: frames of <see cref="FrameLength"/> bytes, chosen with relative <see cref="Weight"/>.</summary>
public readonly record struct FrameSizeWeight(int FrameLength, int Weight);
