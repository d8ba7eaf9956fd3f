namespace Netmem.Chaos;

/// <summary>
/// The probability, per operation, that each fault kind is injected. One <c>--fault-rate</c> scales them all: each
/// kind has a weight that matches how often its operation happens (a map is rarer than a delivered packet, an unbind
/// cycle rarer still), so one rate gives a useful mix.
/// </summary>
internal sealed record FaultRates
{
    private readonly double[] _rates = new double[Enum.GetValues<FaultKind>().Length];

    public FaultRates(double faultRate, IReadOnlySet<FaultKind> enabled)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(faultRate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(faultRate, 1.0);
        foreach (FaultKind kind in enabled)
        {
            _rates[(int)kind] = Math.Min(1.0, faultRate * WeightOf(kind));
        }
    }

    public double this[FaultKind kind] => _rates[(int)kind];

    /// <summary>
    /// How one unit of fault rate translates into this kind's per-operation probability. The operations are: a DMA
    /// map (failure, latency), a provider allocation, a packet read by a consumer (throw, stall), a packet released
    /// (misuse), a frame asked of the traffic source inside a poll (driver crash), a 250 ms slot of the unbinder
    /// (unbind under load) and an unbind (late-return storm; slow unmap, sync and teardown; a driver stuck in the device).
    /// </summary>
    public static double WeightOf(FaultKind kind) => kind switch
    {
        FaultKind.DmaMapFailure => 1.0,
        FaultKind.DmaMapLatency => 2.0,
        FaultKind.AllocationFailure => 1.0,
        FaultKind.ConsumerThrow => 0.01,
        FaultKind.ConsumerStall => 0.01,
        FaultKind.DriverCrash => 0.002,
        FaultKind.UnbindUnderLoad => 60.0,
        FaultKind.LateReturnStorm => 40.0,
        FaultKind.ConsumerMisuse => 0.05,
        FaultKind.SlowUnmap => 40.0,
        FaultKind.SlowSync => 20.0,
        FaultKind.SlowTeardown => 20.0,
        FaultKind.DriverStuck => 20.0,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown fault kind."),
    };
}
