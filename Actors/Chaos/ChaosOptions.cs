using System.CommandLine;

namespace Netmem.Chaos;

/// <summary>The options of the <c>chaos</c> command, and how they become <see cref="ChaosSettings"/>.</summary>
internal sealed class ChaosOptions
{
    private static readonly ChaosSettings Defaults = new();

    private readonly Dictionary<FaultKind, Option<bool>> _faultSwitches = new()
    {
        [FaultKind.DmaMapFailure] = Switch("--dma-map-failure", "DMA maps fail"),
        [FaultKind.DmaMapLatency] = Switch("--dma-map-latency", "DMA maps are slow"),
        [FaultKind.AllocationFailure] = Switch("--alloc-failure", "memory-provider allocations fail"),
        [FaultKind.ConsumerThrow] = Switch("--consumer-throw", "consumers throw while holding pages"),
        [FaultKind.ConsumerStall] = Switch("--consumer-stall", "consumers stall holding pages"),
        [FaultKind.DriverCrash] = Switch("--driver-crash", "drivers crash mid-poll"),
        [FaultKind.UnbindUnderLoad] = Switch("--unbind-under-load", "devices unbind and rebind at random moments"),
        [FaultKind.LateReturnStorm] = Switch("--late-return-storm", "held pages all return as destroy runs"),
        [FaultKind.ConsumerMisuse] = Switch("--consumer-misuse", "consumers return twice or use pages after dispose"),
        [FaultKind.SlowUnmap] = Switch("--slow-unmap", "for some unbinds every unmap is slow, so destroy outlives its timeout"),
        [FaultKind.SlowSync] = Switch("--slow-sync", "for some unbinds every sync is slow"),
        [FaultKind.SlowTeardown] = Switch("--slow-teardown", "for some unbinds the domain teardown outlives its timeout"),
    };

    public Option<ulong?> Seed { get; } = new("--seed")
    {
        Description = "Seed of every fault decision (default: random, printed at start). The same seed injects the same faults on the same operations.",
    };

    public Option<TimeSpan> Duration { get; } = new("--duration")
    {
        Description = "How long traffic runs before the shutdown and checks: seconds, or 500ms, 20s, 2m.",
        DefaultValueFactory = _ => Defaults.Duration,
        CustomParser = ChaosCommand.ParseDuration,
    };

    public Option<int> Devices { get; } = new("--devices")
    {
        Description = "Devices, each with its own IOMMU model, supervisor and driver.",
        DefaultValueFactory = _ => Defaults.Devices,
    };

    public Option<int> Queues { get; } = new("--queues")
    {
        Description = "RX queues per device, each with its own pool.",
        DefaultValueFactory = _ => Defaults.QueuesPerDevice,
    };

    public Option<int> Consumers { get; } = new("--consumers")
    {
        Description = "Application consumers (sockets), with varied hold times.",
        DefaultValueFactory = _ => Defaults.Consumers,
    };

    public Option<double> FaultRate { get; } = new("--fault-rate")
    {
        Description = "Probability unit of every fault, scaled per kind by how often its operation happens (0 to 1).",
        DefaultValueFactory = _ => Defaults.FaultRate,
    };

    public Option<double> Rate { get; } = new("--rate")
    {
        Description = "Synthetic frames per second per RX queue.",
        DefaultValueFactory = _ => Defaults.FramesPerSecondPerQueue,
    };

    public Option<bool> NoFaults { get; } = new("--no-faults")
    {
        Description = "Switch every fault off (a clean run with traffic only; the final shutdown still unbinds).",
    };

    public Option<string?> Json { get; } = new("--json")
    {
        Description = "Also write the report, fault ledger included, as JSON to this file.",
        HelpName = "path",
    };

    public Option<bool> Plain { get; } = new("--plain")
    {
        Description = "Plain progress lines instead of the live display (the default when output is redirected).",
    };

    public IEnumerable<Option> All =>
        [Seed, Duration, Devices, Queues, Consumers, FaultRate, Rate, .. _faultSwitches.Values, NoFaults, Json, Plain];

    public ChaosSettings ToSettings(ParseResult result)
    {
        bool noFaults = result.GetValue(NoFaults);
        return new ChaosSettings
        {
            Seed = result.GetValue(Seed) ?? (ulong)Random.Shared.NextInt64(),
            Duration = result.GetValue(Duration),
            Devices = result.GetValue(Devices),
            QueuesPerDevice = result.GetValue(Queues),
            Consumers = result.GetValue(Consumers),
            FaultRate = result.GetValue(FaultRate),
            FramesPerSecondPerQueue = result.GetValue(Rate),
            EnabledFaults = noFaults ? new HashSet<FaultKind>() : _faultSwitches.Where(s => result.GetValue(s.Value)).Select(s => s.Key).ToHashSet(),
        };
    }

    private static Option<bool> Switch(string name, string what) => new(name)
    {
        Description = $"Fault: {what}. On by default; '{name} false' turns it off.",
        DefaultValueFactory = _ => true,
    };
}
