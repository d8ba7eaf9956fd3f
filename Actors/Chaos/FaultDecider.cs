namespace Netmem.Chaos;

/// <summary>
/// Decides, for one seed, whether a fault is injected on an operation, and draws the fault's parameters, as a pure
/// function of (seed, fault kind, operation id).
/// </summary>
/// <remarks>
/// Why a hash and not a random generator: operations happen on many threads in an order the scheduler picks, so any
/// shared sequence of random numbers would hand different draws to different operations from run to run. Hashing the
/// operation's own id gives the same answer for the same operation whatever the interleaving, which is what makes a
/// seed reproduce its faults. The mix is SplitMix64's finalizer (Steele, Lea, Flood 2014), applied once per input word,
/// so every input bit affects every output bit. Draw 0 decides injection; draws 1, 2, … generate the fault itself.
/// </remarks>
internal sealed class FaultDecider
{
    private readonly FaultRates _rates;

    public FaultDecider(ulong seed, FaultRates rates)
    {
        Seed = seed;
        _rates = rates;
    }

    public ulong Seed { get; }

    public FaultRates Rates => _rates;

    /// <summary>Whether <paramref name="kind"/> is injected on operation <paramref name="operationId"/>.</summary>
    public bool Decides(FaultKind kind, long operationId)
    {
        double rate = _rates[kind];
        return rate > 0 && Fraction(kind, operationId, 0) < rate;
    }

    /// <summary>A uniform value in [0, 1) for draw <paramref name="draw"/> of one operation.</summary>
    public double Fraction(FaultKind kind, long operationId, int draw) =>
        (Hash(kind, operationId, draw) >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="max"/>) for draw <paramref name="draw"/>.</summary>
    public int Between(FaultKind kind, long operationId, int draw, int min, int max) =>
        min + (int)(Hash(kind, operationId, draw) % (ulong)(max - min));

    public ulong Hash(FaultKind kind, long operationId, int draw) =>
        Mix(Mix(Mix(Seed ^ ((ulong)kind + 1) * 0x9E37_79B9_7F4A_7C15UL) ^ (ulong)operationId) + (ulong)draw);

    private static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EBUL;
        return z ^ (z >> 31);
    }
}
