using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Netmem.Chaos;

/// <summary>
/// The command line: <c>chaos</c> (also what runs with no command) with its options. Bad values are reported in
/// words and exit with code 2; a run exits 0 only if it found no violation, 1 otherwise.
/// </summary>
public static class ChaosCommand
{
    public const int ExitPassed = 0;
    public const int ExitViolations = 1;
    public const int ExitBadUsage = 2;

    /// <summary>Parses <paramref name="args"/> and runs; the console streams can be replaced for tests.</summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var options = new ChaosOptions();
        RootCommand root = Build(options, output, error);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (ParseError parseError in parsed.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("Run with --help for the options.").ConfigureAwait(false);
            return ExitBadUsage;
        }

        // Ctrl+C cancels the traffic; the run still shuts down, checks and reports, which takes a few seconds.
        var invocation = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
        return await parsed.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    private static RootCommand Build(ChaosOptions options, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("PagePool: runs a seeded chaos run of the device-mapped page pool runtime (the same as 'chaos').");
        foreach (Option option in options.All)
        {
            option.Recursive = true;
            root.Add(option);
        }

        var chaos = new Command("chaos", "Runs devices, drivers, stack and consumers under seeded faults and random unbind/rebind cycles, then proves no page or mapping was lost.");
        root.Add(chaos);
        root.SetAction((result, token) => RunAsync(options, result, output, error, token));
        chaos.SetAction((result, token) => RunAsync(options, result, output, error, token));
        return root;
    }

    private static async Task<int> RunAsync(ChaosOptions options, ParseResult result, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ChaosSettings settings = options.ToSettings(result);
        IReadOnlyList<string> problems = settings.Validate();
        if (problems.Count > 0)
        {
            foreach (string problem in problems)
            {
                await error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
            }

            return ExitBadUsage;
        }

        string? jsonPath = result.GetValue(options.Json);
        if (jsonPath is not null && !Directory.Exists(Path.GetDirectoryName(Path.GetFullPath(jsonPath))))
        {
            await error.WriteLineAsync($"error: --json {jsonPath}: the directory {Path.GetDirectoryName(Path.GetFullPath(jsonPath))} does not exist.").ConfigureAwait(false);
            return ExitBadUsage;
        }

        ChaosReport report = await ChaosConsole.RunAsync(settings, output, result.GetValue(options.Plain), cancellationToken).ConfigureAwait(false);
        if (jsonPath is not null)
        {
            try
            {
                await File.WriteAllTextAsync(jsonPath, ChaosReportJson.Serialize(report), cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"JSON report written to {Path.GetFullPath(jsonPath)}").ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: --json {jsonPath}: {exception.Message}").ConfigureAwait(false);
                return ExitBadUsage;
            }
        }

        return report.Passed ? ExitPassed : ExitViolations;
    }

    /// <summary>Reads a duration: plain seconds (<c>20</c>, <c>2.5</c>) or with a unit (<c>500ms</c>, <c>20s</c>, <c>2m</c>, <c>1h</c>).</summary>
    internal static TimeSpan ParseDuration(ArgumentResult result)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : string.Empty;
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            result.AddError($"'{text}' is not a duration: give seconds (20, 2.5) or a number with ms, s, m or h (500ms, 2m).");
            return default;
        }

        double seconds = value * scale;
        if (Math.Abs(seconds) > ChaosSettings.MaxDuration.TotalSeconds)
        {
            result.AddError($"--duration '{text}' is longer than the {ChaosSettings.MaxDuration.TotalHours:0} h a run may last.");
            return default;
        }

        return TimeSpan.FromSeconds(seconds);
    }
}
