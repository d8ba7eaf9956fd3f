using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Netmem.Chaos;

/// <summary>
/// The options of the <c>chaos</c> command, and how they become <see cref="ChaosSettings"/>.
/// </summary>
/// <remarks>
/// Every option reads its value through a parser of its own, never System.CommandLine's type conversion: that
/// conversion's errors name .NET types (<c>System.Nullable`1[System.UInt64]</c>), and it does not take a
/// non-boolean word after a boolean option as its value at all (<c>--driver-crash maybe</c> became an
/// "unrecognized argument"). So booleans are options of <see cref="Toggle"/>, which the parser does hand any word,
/// and each parser checks the range too, so a range error is a parse error like any other: it names the option,
/// the value and what is expected, in words, and the command adds the <c>--help</c> hint to all of them alike.
/// </remarks>
internal sealed class ChaosOptions
{
    public const int MaxDevices = 64;
    public const int MaxQueues = 64;
    public const int MaxConsumers = 1024;
    public const double MaxFramesPerSecond = 10_000_000;

    private const string ProbabilityExpected = "a probability from 0 to 1, such as 0.01";
    private const string RateExpected = "a number of frames per second from 1 to 10000000";

    private static readonly ChaosSettings Defaults = new();

    private readonly Dictionary<FaultKind, Option<Toggle?>> _faultSwitches = new()
    {
        [FaultKind.DmaMapFailure] = FaultSwitch("--dma-map-failure", "DMA maps fail"),
        [FaultKind.DmaMapLatency] = FaultSwitch("--dma-map-latency", "DMA maps are slow"),
        [FaultKind.AllocationFailure] = FaultSwitch("--alloc-failure", "memory-provider allocations fail"),
        [FaultKind.ConsumerThrow] = FaultSwitch("--consumer-throw", "consumers throw while holding pages"),
        [FaultKind.ConsumerStall] = FaultSwitch("--consumer-stall", "consumers stall holding pages"),
        [FaultKind.DriverCrash] = FaultSwitch("--driver-crash", "drivers crash mid-poll"),
        [FaultKind.UnbindUnderLoad] = FaultSwitch("--unbind-under-load", "devices unbind and rebind at random moments"),
        [FaultKind.LateReturnStorm] = FaultSwitch("--late-return-storm", "held pages all return as destroy runs"),
        [FaultKind.ConsumerMisuse] = FaultSwitch("--consumer-misuse", "consumers return twice or use pages after dispose"),
        [FaultKind.SlowUnmap] = FaultSwitch("--slow-unmap", "for some unbinds every unmap is slow, so destroy outlives its timeout"),
        [FaultKind.SlowSync] = FaultSwitch("--slow-sync", "for some unbinds every sync is slow"),
        [FaultKind.SlowTeardown] = FaultSwitch("--slow-teardown", "for some unbinds the domain teardown outlives its timeout"),
        [FaultKind.DriverStuck] = FaultSwitch("--driver-stuck", "for some unbinds the driver is stuck inside the device past its quiesce timeout"),
    };

    /// <summary>
    /// A boolean option's value: a type of its own so that the parser hands any word to its parser. Unset (null)
    /// means the option's default, said in its description (help would show an enum default by its name).
    /// </summary>
    public enum Toggle
    {
        Off,
        On,
    }

    public Option<ulong?> Seed { get; } = new("--seed")
    {
        Description = "Seed of every fault decision (default: random, printed at start). The same seed injects the same faults on the same operations.",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result => ParseWholeNumber(result, ulong.MinValue, ulong.MaxValue),
    };

    /// <summary>
    /// Nullable with its default applied in <see cref="ToSettings"/>: a default value here would be shown by help
    /// as <c>00:00:20</c>, so the description says it as typed.
    /// </summary>
    public Option<TimeSpan?> Duration { get; } = new("--duration")
    {
        Description = $"How long traffic runs before the shutdown and checks: seconds, or 500ms, 20s, 2m. [default: {FormatDuration(Defaults.Duration)}]",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseDuration,
    };

    public Option<ChaosDeviceKind?> Device { get; } = new("--device")
    {
        Description = "The device to bind: sim (the simulated NIC and its strict IOMMU model) or uring (the kernel through io_uring, capturing real UDP traffic on lo; needs root or CAP_NET_RAW). [default: sim]",
        HelpName = "sim|uring",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseDevice,
    };

    public Option<int> Devices { get; } = new("--devices")
    {
        Description = "Devices, each with its own IOMMU model, supervisor and driver.",
        DefaultValueFactory = _ => Defaults.Devices,
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result => (int)ParseWholeNumber(result, 1, MaxDevices),
    };

    public Option<int> Queues { get; } = new("--queues")
    {
        Description = "RX queues per device, each with its own pool.",
        DefaultValueFactory = _ => Defaults.QueuesPerDevice,
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result => (int)ParseWholeNumber(result, 1, MaxQueues),
    };

    public Option<int> Consumers { get; } = new("--consumers")
    {
        Description = "Application consumers (sockets), with varied hold times.",
        DefaultValueFactory = _ => Defaults.Consumers,
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result => (int)ParseWholeNumber(result, 1, MaxConsumers),
    };

    public Option<double> FaultRate { get; } = new("--fault-rate")
    {
        Description = "Probability unit of every fault, scaled per kind by how often its operation happens (0 to 1).",
        DefaultValueFactory = _ => Defaults.FaultRate,
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result => ParseNumber(result, 0, 1, ProbabilityExpected),
    };

    public Option<double> Rate { get; } = new("--rate")
    {
        Description = "Synthetic frames per second per RX queue.",
        DefaultValueFactory = _ => Defaults.FramesPerSecondPerQueue,
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = result => ParseNumber(result, 1, MaxFramesPerSecond, RateExpected),
    };

    public Option<Toggle?> NoFaults { get; } = Flag("--no-faults", "Switch every fault off (a clean run with traffic only; the final shutdown still unbinds).");

    public Option<string?> Json { get; } = new("--json")
    {
        Description = "Also write the report, fault ledger included, as JSON to this file (checked before the run starts).",
        HelpName = "path",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseOutputPath,
    };

    public Option<Toggle?> Plain { get; } = Flag("--plain", "Plain progress lines instead of the live display (the default when output is redirected).");

    public bool PlainOutput(ParseResult result) => result.GetValue(Plain) == Toggle.On;

    public ChaosOptions()
    {
        // An option with a default value given with no value is not handed to its parser: it would quietly take the
        // default. Say what it needs instead.
        foreach ((Option option, string expected) in new (Option, string)[]
        {
            (Devices, $"a whole number from 1 to {MaxDevices}"),
            (Queues, $"a whole number from 1 to {MaxQueues}"),
            (Consumers, $"a whole number from 1 to {MaxConsumers}"),
            (FaultRate, ProbabilityExpected),
            (Rate, RateExpected),
        })
        {
            option.Validators.Add(result =>
            {
                if (!result.Implicit && result.Tokens.Count == 0)
                {
                    result.AddError($"{result.Option.Name} needs a value: {expected}.");
                }
            });
        }
    }

    public IEnumerable<Option> All =>
        [Seed, Duration, Device, Devices, Queues, Consumers, FaultRate, Rate, .. _faultSwitches.Values, NoFaults, Json, Plain];

    public ChaosSettings ToSettings(ParseResult result)
    {
        bool noFaults = result.GetValue(NoFaults) == Toggle.On;
        return new ChaosSettings
        {
            Seed = result.GetValue(Seed) ?? (ulong)Random.Shared.NextInt64(),
            Device = result.GetValue(Device) ?? ChaosDeviceKind.Simulated,
            Duration = result.GetValue(Duration) ?? Defaults.Duration,
            Devices = result.GetValue(Devices),
            QueuesPerDevice = result.GetValue(Queues),
            Consumers = result.GetValue(Consumers),
            FaultRate = result.GetValue(FaultRate),
            FramesPerSecondPerQueue = result.GetValue(Rate),
            EnabledFaults = noFaults
                ? new HashSet<FaultKind>()
                : _faultSwitches.Where(s => (result.GetValue(s.Value) ?? Toggle.On) == Toggle.On).Select(s => s.Key).ToHashSet(),
        };
    }

    /// <summary>A duration the way a user types it: <c>500ms</c>, <c>20s</c>, <c>2m</c>, <c>1.5h</c>.</summary>
    public static string FormatDuration(TimeSpan duration) => duration switch
    {
        _ when duration < TimeSpan.FromSeconds(1) => $"{duration.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms",
        _ when duration < TimeSpan.FromMinutes(1) || duration.TotalSeconds % 60 != 0 => $"{duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}s",
        _ when duration < TimeSpan.FromHours(1) || duration.TotalMinutes % 60 != 0 => $"{duration.TotalMinutes.ToString("0.###", CultureInfo.InvariantCulture)}m",
        _ => $"{duration.TotalHours.ToString("0.###", CultureInfo.InvariantCulture)}h",
    };

    /// <summary>
    /// Reads a duration: plain seconds (<c>20</c>, <c>2.5</c>) or with a unit (<c>500ms</c>, <c>20s</c>, <c>2m</c>,
    /// <c>1h</c>); positive and at most <see cref="ChaosSettings.MaxDuration"/>.
    /// </summary>
    internal static TimeSpan? ParseDuration(ArgumentResult result)
    {
        string expected = $"a duration such as 500ms, 20s or 2m, longer than 0 and at most {FormatDuration(ChaosSettings.MaxDuration)}";
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return null;
        }

        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value)
            || value * scale <= 0
            || value * scale > ChaosSettings.MaxDuration.TotalSeconds)
        {
            OptionValues.AddError(result, text, expected);
            return null;
        }

        return TimeSpan.FromSeconds(value * scale);
    }

    /// <summary>The device by the word a user types: <c>sim</c> or <c>uring</c>.</summary>
    internal static ChaosDeviceKind? ParseDevice(ArgumentResult result)
    {
        const string expected = "sim or uring";
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return null;
        }

        switch (text.ToLowerInvariant())
        {
            case "sim":
                return ChaosDeviceKind.Simulated;
            case "uring":
                return ChaosDeviceKind.Uring;
            default:
                OptionValues.AddError(result, text, expected);
                return null;
        }
    }

    private static ulong ParseWholeNumber(ArgumentResult result, ulong min, ulong max)
    {
        string expected = $"a whole number from {min} to {max}";
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return min;
        }

        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) || value < min || value > max)
        {
            OptionValues.AddError(result, text, expected);
            return min;
        }

        return value;
    }

    private static double ParseNumber(ArgumentResult result, double min, double max, string expected)
    {
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return min;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value < min || value > max)
        {
            OptionValues.AddError(result, text, expected);
            return min;
        }

        return value;
    }

    private static Toggle? ParseToggle(ArgumentResult result)
    {
        // A bare switch means on; only a value that follows it can turn it off.
        if (result.Tokens.Count == 0)
        {
            return Toggle.On;
        }

        string text = result.Tokens[0].Value;
        if (bool.TryParse(text, out bool value))
        {
            return value ? Toggle.On : Toggle.Off;
        }

        OptionValues.AddError(result, text, "true or false");
        return null;
    }

    /// <summary>
    /// Checks an output file before anything runs: its directory exists, it is not itself a directory, and a file
    /// can be created or opened for writing there (the check leaves an existing file as it was, and removes the one
    /// it created).
    /// </summary>
    private static string? ParseOutputPath(ArgumentResult result)
    {
        const string expected = "the path of a file to write, such as report.json";
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return null;
        }

        string problem = OutputPathProblem(text);
        if (problem.Length > 0)
        {
            result.AddError($"{OptionValues.OptionName(result)} '{text}': {problem}; expected {expected}.");
            return null;
        }

        return text;
    }

    private static string OutputPathProblem(string path)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception exception) when (exception is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return "this is not a valid path";
        }

        if (Directory.Exists(full))
        {
            return "this is a directory";
        }

        string? parent = Path.GetDirectoryName(full);
        if (parent is not null && File.Exists(parent))
        {
            return $"{parent} is a file, not a directory";
        }

        if (parent is null || !Directory.Exists(parent))
        {
            return $"the directory {parent ?? full} does not exist";
        }

        try
        {
            if (File.Exists(full))
            {
                using var existing = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            }
            else
            {
                using var probe = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return $"cannot write there ({exception.Message.TrimEnd('.')})";
        }

        return string.Empty;
    }

    private static Option<Toggle?> FaultSwitch(string name, string what) => new(name)
    {
        Description = $"Fault: {what}. On by default; '{name} false' turns it off.",
        HelpName = "true|false",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseToggle,
    };

    /// <summary>A boolean option, off by default: bare means on, or followed by true or false.</summary>
    internal static Option<Toggle?> Flag(string name, string description) => new(name)
    {
        Description = $"{description} Off by default.",
        HelpName = "true|false",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseToggle,
    };
}
