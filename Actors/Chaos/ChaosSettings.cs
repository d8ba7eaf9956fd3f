namespace Netmem.Chaos;

/// <summary>What a chaos run does: its seed, length, topology, traffic and faults (the command line's options).</summary>
internal sealed record ChaosSettings
{
    public static readonly IReadOnlySet<FaultKind> AllFaults = Enum.GetValues<FaultKind>().ToHashSet();

    /// <summary>The longest run allowed: a day of traffic.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    public ulong Seed { get; init; }

    /// <summary>The device the run binds: simulated (default) or the kernel through io_uring.</summary>
    public ChaosDeviceKind Device { get; init; } = ChaosDeviceKind.Simulated;

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

    /// <summary>
    /// The problems with these settings, each naming the command-line option (or, for settings the command line does
    /// not expose, the property) with its value and what is expected; empty when valid. The command line checks the
    /// same ranges as it parses; this is the check for settings built in code.
    /// </summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Duration <= TimeSpan.Zero || Duration > MaxDuration)
        {
            problems.Add($"--duration '{Duration.TotalSeconds} s' is not valid: expected a duration longer than 0 and at most {MaxDuration.TotalHours:0} h.");
        }

        Check(problems, "--devices", Devices, 1, 64);
        Check(problems, "--queues", QueuesPerDevice, 1, 64);
        Check(problems, "--consumers", Consumers, 1, 1024);
        if (double.IsNaN(FaultRate) || FaultRate is < 0 or > 1)
        {
            problems.Add($"--fault-rate '{FaultRate}' is not valid: expected a probability from 0 to 1, such as 0.01.");
        }

        if (double.IsNaN(FramesPerSecondPerQueue) || FramesPerSecondPerQueue is < 1 or > 10_000_000)
        {
            problems.Add($"--rate '{FramesPerSecondPerQueue}' is not valid: expected a number of frames per second from 1 to 10000000.");
        }

        Check(problems, nameof(SocketQueueCapacity), SocketQueueCapacity, 1, 1_000_000);
        if (PhaseTimeout <= TimeSpan.Zero)
        {
            problems.Add($"{nameof(PhaseTimeout)} '{PhaseTimeout.TotalSeconds} s' is not valid: expected a duration longer than 0.");
        }

        return problems;
    }

    private static void Check(List<string> problems, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{name} '{value}' is not valid: expected a whole number from {min} to {max}.");
        }
    }
}
