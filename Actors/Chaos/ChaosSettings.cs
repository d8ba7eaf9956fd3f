namespace Netmem.Chaos;

/// <summary>What a chaos run does: its seed, length, topology, traffic and faults (the command line's options).</summary>
public sealed record ChaosSettings
{
    public static readonly IReadOnlySet<FaultKind> AllFaults = Enum.GetValues<FaultKind>().ToHashSet();

    /// <summary>The longest run allowed: a day of traffic.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    public ulong Seed { get; init; }

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(20);

    public int Devices { get; init; } = 2;

    public int QueuesPerDevice { get; init; } = 2;

    public int Consumers { get; init; } = 12;

    /// <summary>One unit of fault probability, scaled per kind by <see cref="FaultRates.WeightOf"/>.</summary>
    public double FaultRate { get; init; } = 0.01;

    public IReadOnlySet<FaultKind> EnabledFaults { get; init; } = AllFaults;

    /// <summary>Synthetic arrival rate per RX queue.</summary>
    public double FramesPerSecondPerQueue { get; init; } = 10_000;

    /// <summary>Packets each consumer's socket queues before it drops.</summary>
    public int SocketQueueCapacity { get; init; } = 256;

    /// <summary>How long each unbind phase, and the final drain, may take before the run reports it and moves on.</summary>
    public TimeSpan PhaseTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public FaultRates Rates => new(FaultRate, EnabledFaults);

    /// <summary>The problems with these settings, in words a command-line user can act on; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Duration <= TimeSpan.Zero || Duration > MaxDuration)
        {
            problems.Add($"--duration must be positive and at most {MaxDuration.TotalHours:0} h (got {Duration.TotalSeconds} s).");
        }

        if (Devices is < 1 or > 64)
        {
            problems.Add($"--devices must be 1..64 (got {Devices}).");
        }

        if (QueuesPerDevice is < 1 or > 64)
        {
            problems.Add($"--queues must be 1..64 (got {QueuesPerDevice}).");
        }

        if (Consumers is < 1 or > 1024)
        {
            problems.Add($"--consumers must be 1..1024 (got {Consumers}).");
        }

        if (double.IsNaN(FaultRate) || FaultRate is < 0 or > 1)
        {
            problems.Add($"--fault-rate must be a probability from 0 to 1 (got {FaultRate}).");
        }

        if (double.IsNaN(FramesPerSecondPerQueue) || FramesPerSecondPerQueue is < 1 or > 10_000_000)
        {
            problems.Add($"--rate must be 1..10000000 frames per second per queue (got {FramesPerSecondPerQueue}).");
        }

        if (SocketQueueCapacity is < 1 or > 1_000_000)
        {
            problems.Add($"--socket-queue must be 1..1000000 (got {SocketQueueCapacity}).");
        }

        return problems;
    }
}
