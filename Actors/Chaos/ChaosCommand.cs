using System.CommandLine;
using System.CommandLine.Help;
using System.Reflection;

namespace Netmem.Chaos;

/// <summary>
/// The command line: <c>chaos</c> (also what runs with no command) with its options. Exit codes: 0 a run that
/// exercised the runtime and found no violation; 1 a violation, or a run that exercised nothing (or whose report
/// could not be written); 2 bad options, found before anything runs; 130 / 143 a run stopped by SIGINT / SIGTERM,
/// which still shut down and reported, marked CANCELLED. <c>receive</c> binds the real device until stopped: 0 when it
/// then unbinds cleanly, 1 when it could not bind or the unbind was not clean, 2 bad options.
/// </summary>
internal static class ChaosCommand
{
    public const int ExitPassed = 0;
    public const int ExitFailed = 1;
    public const int ExitViolations = ExitFailed;
    public const int ExitBadUsage = 2;
    public const int ExitInterrupted = ChaosStop.ExitInterrupted;
    public const int ExitTerminated = ChaosStop.ExitTerminated;

    /// <summary>Stands for "the run was cancelled" between the action and <see cref="InvokeAsync"/>, which knows the signal.</summary>
    private const int ExitCancelled = -1;

    private const string ReceiveCommandName = "receive";

    public const string HelpHint = "Run with --help to see every option.";

    /// <summary>
    /// The name the tool is run by, shown in every usage line: the project's <c>ToolCommandName</c>, which the
    /// project file also writes into the assembly's metadata, so the two cannot disagree.
    /// </summary>
    public static string ToolName { get; } = typeof(ChaosCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "ToolCommandName").Value!;

    /// <summary>
    /// Parses <paramref name="args"/> and runs. The console streams can be replaced for tests, and so can
    /// <paramref name="stop"/>, which otherwise listens to SIGINT and SIGTERM for as long as the command runs.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, TextWriter? output = null, TextWriter? error = null, ChaosStop? stop = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var options = new ChaosOptions();
        var receive = new ReceiveOptions();
        Command root = Build(options, receive, output, error);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            return await BadUsageAsync(error, parsed.Errors.Select(e => e.Message).Distinct()).ConfigureAwait(false);
        }

        // Options that only make sense together are checked here, after parsing; a request for help skips the check.
        if (parsed.CommandResult.Command.Name == ReceiveCommandName && parsed.Action is not System.CommandLine.Help.HelpAction
            && receive.Check(parsed) is { Count: > 0 } problems)
        {
            return await BadUsageAsync(error, problems).ConfigureAwait(false);
        }

        ChaosStop active = stop ?? ChaosStop.ListenToProcessSignals();
        try
        {
            // The signals are ours (ChaosStop): System.CommandLine's own handling would cancel without telling which
            // signal came, and end the process after its timeout whatever the run was doing.
            var invocation = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
            int exit = await parsed.InvokeAsync(invocation, active.Token).ConfigureAwait(false);
            return exit == ExitCancelled ? ChaosStop.ExitCodeOf(active.Reason) : exit;
        }
        finally
        {
            if (stop is null)
            {
                active.Dispose();
            }
        }
    }

    private static Command Build(ChaosOptions options, ReceiveOptions receiveOptions, TextWriter output, TextWriter error)
    {
        // Not a RootCommand: its name is the running executable's ("Netmem.Chaos", or "dotnet", or a test host) and
        // cannot be changed, and help prints that name in every usage line. A plain command named after the tool,
        // with the help and version options a RootCommand would add, parses the same.
        var root = new Command(ToolName, "PagePool: runs a seeded chaos run of the device-mapped page pool runtime (the same as 'chaos').")
        {
            new HelpOption(),
            new VersionOption(),
        };
        var chaos = new Command("chaos", "Runs devices, drivers, stack and consumers under seeded faults and random unbind/rebind cycles, then proves no page or mapping was lost.");

        // The chaos options belong to the root (a bare run is a chaos run) and to 'chaos', not to 'receive'.
        foreach (Option option in options.All)
        {
            root.Add(option);
            chaos.Add(option);
        }

        root.Add(chaos);
        var receive = new Command(ReceiveCommandName, "Binds the real device (the kernel through io_uring) on an interface or a UDP port, shows what it receives live until Ctrl-C or SIGTERM, then unbinds and prints the unbind report.");
        foreach (Option option in receiveOptions.All)
        {
            receive.Add(option);
        }

        receive.SetAction((result, token) => ReceiveAsync(receiveOptions, result, output, token));
        root.Add(receive);
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
            return await BadUsageAsync(error, problems).ConfigureAwait(false);
        }

        string? jsonPath = result.GetValue(options.Json);
        using CancellationTokenRegistration stopping = cancellationToken.Register(() => error.WriteLine(
            "Stopping early: the run shuts down, unbinds every device and audits before it reports (signal again to quit at once)."));
        ChaosReport report = await ChaosConsole.RunAsync(settings, output, options.PlainOutput(result), cancellationToken).ConfigureAwait(false);
        if (jsonPath is not null)
        {
            try
            {
                await File.WriteAllTextAsync(jsonPath, ChaosReportJson.Serialize(report), CancellationToken.None).ConfigureAwait(false);
                await output.WriteLineAsync($"JSON report written to {Path.GetFullPath(jsonPath)}").ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // The path was checked before the run; this is the file system changing under it (a full disk).
                await error.WriteLineAsync($"error: --json '{jsonPath}': the report could not be written: {exception.Message}").ConfigureAwait(false);
                return report.Cancelled ? ExitCancelled : ExitFailed;
            }
        }

        return report.Verdict switch
        {
            ChaosVerdict.Passed => ExitPassed,
            ChaosVerdict.Cancelled => ExitCancelled,
            _ => ExitFailed,
        };
    }

    private static async Task<int> ReceiveAsync(ReceiveOptions options, ParseResult result, TextWriter output, CancellationToken stop)
    {
        ReceiveResult received = await ReceiveConsole.RunAsync(options.ToSettings(result), output, stop).ConfigureAwait(false);
        return received.Clean ? ExitPassed : ExitFailed;
    }

    private static async Task<int> BadUsageAsync(TextWriter error, IEnumerable<string> problems)
    {
        foreach (string problem in problems)
        {
            await error.WriteLineAsync($"error: {problem}").ConfigureAwait(false);
        }

        await error.WriteLineAsync(HelpHint).ConfigureAwait(false);
        return ExitBadUsage;
    }
}
