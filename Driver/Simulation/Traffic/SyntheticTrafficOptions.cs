using Netmem.Stack.Parsing;

namespace Netmem.Simulation.Traffic;

/// <summary>What a <see cref="SyntheticTrafficSource"/> sends: rate, frame-size mix and flows.</summary>
public sealed record SyntheticTrafficOptions
{
    /// <summary>The simple IMIX: 7 × 64 B, 4 × 594 B, 1 × 1518 B (FCS excluded: 60, 590, 1514).</summary>
    public static readonly IReadOnlyList<FrameSizeWeight> SimpleImix = [new(60, 7), new(590, 4), new(1514, 1)];

    /// <summary>The flows (5-tuples) frames are spread over, round-robin. UDP or TCP, IPv4 or IPv6.</summary>
    public required IReadOnlyList<FlowKey> Flows { get; init; }

    /// <summary>Frame lengths and their weights; lengths below a flow's header length are raised to it.</summary>
    public IReadOnlyList<FrameSizeWeight> FrameSizes { get; init; } = SimpleImix;

    /// <summary>Arrival rate in frames per second; 0 means a frame is always waiting (line rate for the driver).</summary>
    public double FramesPerSecond { get; init; }

    /// <summary>
    /// Frames the NIC's FIFO holds while no descriptor is free; frames arriving beyond it are missed (the NIC's
    /// <c>rx_missed_errors</c>).
    /// </summary>
    public int FifoFrames { get; init; } = 4096;

    /// <summary>Stop after this many frames (null: never).</summary>
    public long? MaxFrames { get; init; }

    /// <summary>Seeds the frame-size choice so a run is reproducible.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The clock that paces arrivals; a fake one makes a timed run deterministic. The system clock by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>VLAN tags on every frame (0, 1 or 2).</summary>
    public int VlanCount { get; init; }
}
