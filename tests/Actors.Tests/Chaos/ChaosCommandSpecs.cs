using System.Diagnostics;
using System.Runtime.InteropServices;
using Netmem.Chaos;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

[Collection(ChaosRunCollection.Name)]
public sealed class ChaosCommandSpecs
{
    private const string WholeNumber1To64 = "expected a whole number from 1 to 64.";
    private const string AnyDuration = "expected a duration such as 500ms, 20s or 2m, longer than 0 and at most 24h.";
    private const string TrueOrFalse = "expected true or false.";
    private const string Probability = "expected a probability from 0 to 1, such as 0.01.";

    [Theory]
    [InlineData("--seed", "abc", "expected a whole number from 0 to 18446744073709551615.")]
    [InlineData("--seed", "-3", "expected a whole number from 0 to 18446744073709551615.")]
    [InlineData("--seed", "18446744073709551616", "expected a whole number from 0 to 18446744073709551615.")]
    [InlineData("--devices", "abc", WholeNumber1To64)]
    [InlineData("--devices", "two", WholeNumber1To64)]
    [InlineData("--devices", "0", WholeNumber1To64)]
    [InlineData("--devices", "65", WholeNumber1To64)]
    [InlineData("--devices", "1.5", WholeNumber1To64)]
    [InlineData("--queues", "-1", WholeNumber1To64)]
    [InlineData("--consumers", "0", "expected a whole number from 1 to 1024.")]
    [InlineData("--consumers", "1025", "expected a whole number from 1 to 1024.")]
    [InlineData("--fault-rate", "1.5", Probability)]
    [InlineData("--fault-rate", "NaN", Probability)]
    [InlineData("--fault-rate", "-0.1", Probability)]
    [InlineData("--rate", "0", "expected a number of frames per second from 1 to 10000000.")]
    [InlineData("--rate", "fast", "expected a number of frames per second from 1 to 10000000.")]
    [InlineData("--duration", "0", AnyDuration)]
    [InlineData("--duration", "soon", AnyDuration)]
    [InlineData("--duration", "1e20", AnyDuration)]
    [InlineData("--duration", "-5", AnyDuration)]
    [InlineData("--duration", "25h", AnyDuration)]
    [InlineData("--driver-crash", "maybe", TrueOrFalse)]
    [InlineData("--late-return-storm", "1", TrueOrFalse)]
    [InlineData("--no-faults", "yes", TrueOrFalse)]
    [InlineData("--plain", "maybe", TrueOrFalse)]
    [InlineData("--device", "gpu", "expected sim or uring.")]
    public async Task A_bad_value_names_the_option_the_value_and_what_is_expected_in_words_and_exits_2_without_running(
        string option, string value, string expected)
    {
        (int exit, string output, string error) = await InvokeAsync("chaos", option, value);

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Equal([$"error: {option} '{value}' is not valid: {expected}", ChaosCommand.HelpHint], Lines(error));
        Assert.Equal(string.Empty, output);
    }

    [Theory]
    [InlineData("--seed", "a whole number from 0 to 18446744073709551615.")]
    [InlineData("--devices", "a whole number from 1 to 64.")]
    [InlineData("--consumers", "a whole number from 1 to 1024.")]
    [InlineData("--fault-rate", "a probability from 0 to 1, such as 0.01.")]
    [InlineData("--rate", "a number of frames per second from 1 to 10000000.")]
    [InlineData("--duration", "a duration such as 500ms, 20s or 2m, longer than 0 and at most 24h.")]
    [InlineData("--json", "the path of a file to write, such as report.json.")]
    public async Task An_option_without_its_value_says_what_value_it_needs(string option, string expected)
    {
        (int exit, string output, string error) = await InvokeAsync("chaos", option);

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Equal([$"error: {option} needs a value: {expected}", ChaosCommand.HelpHint], Lines(error));
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public async Task Every_bad_option_is_reported_at_once_with_one_hint()
    {
        (int exit, _, string error) = await InvokeAsync("chaos", "--devices", "abc", "--driver-crash", "maybe");

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Equal(
            ["error: --devices 'abc' is not valid: " + WholeNumber1To64, "error: --driver-crash 'maybe' is not valid: " + TrueOrFalse, ChaosCommand.HelpHint],
            Lines(error));
    }

    [Fact]
    public async Task An_unknown_option_is_named_and_exits_2_with_the_hint()
    {
        (int exit, string output, string error) = await InvokeAsync("chaos", "--no-such-option", "1");

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Contains("'--no-such-option'", error, StringComparison.Ordinal);
        Assert.Equal(ChaosCommand.HelpHint, Lines(error)[^1]);
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public async Task A_json_path_that_is_a_directory_is_refused_before_the_run()
    {
        string directory = Directory.CreateTempSubdirectory("chaos-json-").FullName;
        try
        {
            (int exit, string output, string error) = await InvokeAsync("chaos", "--json", directory);

            Assert.Equal(ChaosCommand.ExitBadUsage, exit);
            Assert.Equal(
                [$"error: --json '{directory}': this is a directory; expected the path of a file to write, such as report.json.", ChaosCommand.HelpHint],
                Lines(error));
            Assert.Equal(string.Empty, output);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public async Task A_json_path_in_a_missing_directory_is_refused_before_the_run()
    {
        string path = Path.Combine(Path.GetTempPath(), $"no-such-dir-{Guid.NewGuid():N}", "report.json");

        (int exit, string output, string error) = await InvokeAsync("chaos", "--json", path);

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.Equal(
            [$"error: --json '{path}': the directory {Path.GetDirectoryName(path)} does not exist; expected the path of a file to write, such as report.json.", ChaosCommand.HelpHint],
            Lines(error));
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public async Task A_json_path_under_a_file_is_refused_before_the_run()
    {
        string file = Path.GetTempFileName();
        string path = Path.Combine(file, "report.json");
        try
        {
            (int exit, _, string error) = await InvokeAsync("chaos", "--json", path);

            Assert.Equal(ChaosCommand.ExitBadUsage, exit);
            Assert.Equal(
                [$"error: --json '{path}': {file} is a file, not a directory; expected the path of a file to write, such as report.json.", ChaosCommand.HelpHint],
                Lines(error));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_json_path_where_nothing_may_be_written_is_refused_before_the_run()
    {
        // sysfs refuses to create files, even for root (a chmod'ed directory would not stop root). Linux only.
        const string path = "/sys/report.json";

        (int exit, string output, string error) = await InvokeAsync("chaos", "--json", path);

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        string[] lines = Lines(error);
        Assert.StartsWith($"error: --json '{path}': cannot write there (", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("); expected the path of a file to write, such as report.json.", lines[0], StringComparison.Ordinal);
        Assert.Equal([ChaosCommand.HelpHint], lines[1..]);
        Assert.Equal(string.Empty, output);
    }

    [Fact]
    public async Task Checking_a_json_path_leaves_no_file_behind_when_the_run_does_not_start()
    {
        string path = Path.Combine(Path.GetTempPath(), $"chaos-{Guid.NewGuid():N}.json");

        (int exit, _, _) = await InvokeAsync("chaos", "--json", path, "--devices", "0");

        Assert.Equal(ChaosCommand.ExitBadUsage, exit);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Settings_built_in_code_are_checked_with_messages_naming_what_exists()
    {
        ChaosSettings settings = new() { SocketQueueCapacity = 0, Devices = 0 };

        IReadOnlyList<string> problems = settings.Validate();

        Assert.Equal(
            ["--devices '0' is not valid: expected a whole number from 1 to 64.", "SocketQueueCapacity '0' is not valid: expected a whole number from 1 to 1000000."],
            problems);
        Assert.DoesNotContain(problems, p => p.Contains("--socket-queue", StringComparison.Ordinal));
        ArgumentException thrown = Assert.Throws<ArgumentException>(() => ChaosRunner.RunAsync(settings).GetAwaiter().GetResult());
        Assert.Contains("SocketQueueCapacity '0'", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_lists_every_option_shows_durations_as_typed_and_runs_nothing()
    {
        (int exit, string output, _) = await InvokeAsync("chaos", "--help");

        Assert.Equal(0, exit);
        foreach (string option in new[] { "--seed", "--duration", "--devices", "--queues", "--consumers", "--fault-rate", "--rate", "--json", "--plain", "--no-faults", "--driver-crash", "--late-return-storm" })
        {
            Assert.Contains(option, output, StringComparison.Ordinal);
        }

        Assert.Contains("[default: 20s]", output, StringComparison.Ordinal);
        Assert.DoesNotContain("00:00:20", output, StringComparison.Ordinal);
        Assert.DoesNotContain("chaos run seed", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--help" }, "pagepool [command] [options]")]
    [InlineData(new[] { "chaos", "--help" }, "pagepool chaos [options]")]
    [InlineData(new[] { "receive", "--help" }, "pagepool receive [options]")]
    public async Task Help_names_the_tool_pagepool_in_its_usage_line_whatever_runs_it(string[] args, string usage)
    {
        (int exit, string output, string error) = await InvokeAsync(args);

        Assert.Equal(0, exit);
        Assert.Equal(string.Empty, error);
        string[] lines = Lines(output);
        Assert.Equal(usage, lines[Array.IndexOf(lines, "Usage:") + 1]);
        Assert.DoesNotContain("Netmem.Chaos", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tool_name_is_the_command_name_the_package_installs()
    {
        Assert.Equal("pagepool", ChaosCommand.ToolName);
    }

    [Fact]
    public async Task A_run_prints_its_seed_first_ends_with_pass_and_writes_the_json_report()
    {
        string json = Path.Combine(Path.GetTempPath(), $"chaos-{Guid.NewGuid():N}.json");
        try
        {
            (int exit, string output, _) = await InvokeAsync(
                "chaos", "--seed", "314", "--duration", "1s", "--devices", "1", "--consumers", "3", "--rate", "2000", "--json", json);

            Assert.StartsWith("chaos run seed 314", output, StringComparison.Ordinal);
            Assert.Contains("chaos run report", output, StringComparison.Ordinal);
            Assert.Contains("PASS: no violations.", output, StringComparison.Ordinal);
            ChaosReport report = ChaosReportJson.Deserialize(await File.ReadAllTextAsync(json))!;
            Assert.Equal(314UL, report.Seed);
            Assert.False(report.Cancelled);
            Assert.True(report.Packets.Delivered > 0);
            Assert.Equal(ChaosCommand.ExitPassed, exit);
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task A_report_that_cannot_be_written_after_the_run_fails_the_command_with_exit_1_and_says_why()
    {
        // The path passes the check; then, while the run goes, a directory takes its place.
        string json = Path.Combine(Path.GetTempPath(), $"chaos-{Guid.NewGuid():N}.json");
        var output = new StringWriter();
        var error = new StringWriter();
        using var stop = new ChaosStop();
        try
        {
            Task<int> run = ChaosCommand.InvokeAsync(
                ["chaos", "--seed", "11", "--duration", "2s", "--devices", "1", "--consumers", "3", "--rate", "2000", "--json", json], output, error, stop);
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.False(run.IsCompleted);
            Directory.CreateDirectory(json);

            int exit = await run.WaitAsync(TimeSpan.FromSeconds(45));

            Assert.Equal(ChaosCommand.ExitFailed, exit);
            Assert.StartsWith($"error: --json '{json}': the report could not be written: ", error.ToString(), StringComparison.Ordinal);
            Assert.Contains("PASS: no violations.", output.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("JSON report written", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(json);
        }
    }

    [Fact]
    public async Task A_run_in_which_every_fault_fires_delivers_nothing_and_fails_saying_nothing_was_exercised()
    {
        (int exit, string output, _) = await InvokeAsync(
            "chaos", "--seed", "5", "--fault-rate", "1", "--duration", "1500ms", "--devices", "1", "--consumers", "3", "--rate", "2000");

        Assert.Equal(ChaosCommand.ExitFailed, exit);
        Assert.Contains("FAIL: nothing was exercised: no packet was delivered to a consumer", output, StringComparison.Ordinal);
        Assert.DoesNotContain("PASS", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ChaosStopReason.Interrupt, ChaosCommand.ExitInterrupted)]
    [InlineData(ChaosStopReason.Terminate, ChaosCommand.ExitTerminated)]
    public async Task A_run_stopped_early_still_unbinds_and_audits_reports_cancelled_and_exits_with_the_signal_code(object stopReason, int expectedExit)
    {
        var reason = (ChaosStopReason)stopReason;
        string json = Path.Combine(Path.GetTempPath(), $"chaos-{Guid.NewGuid():N}.json");
        using var stop = new ChaosStop();
        var output = new StringWriter();
        var error = new StringWriter();
        try
        {
            Task<int> run = ChaosCommand.InvokeAsync(
                ["chaos", "--seed", "7", "--duration", "60s", "--devices", "1", "--consumers", "3", "--rate", "2000", "--json", json], output, error, stop);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            Assert.False(run.IsCompleted);
            Assert.True(stop.Request(reason));

            int exit = await run.WaitAsync(TimeSpan.FromSeconds(45));

            Assert.Equal(expectedExit, exit);
            string text = output.ToString();
            Assert.Contains("CANCELLED: stopped after", text, StringComparison.Ordinal);
            Assert.DoesNotContain("PASS", text, StringComparison.Ordinal);
            Assert.Contains("Stopping early", error.ToString(), StringComparison.Ordinal);
            ChaosReport report = ChaosReportJson.Deserialize(await File.ReadAllTextAsync(json))!;
            Assert.True(report.Cancelled);
            Assert.Equal(ChaosVerdict.Cancelled, report.Verdict);
            Assert.True(report.DurationSeconds < 30, $"traffic ran {report.DurationSeconds} s");
            Assert.True(report.Unbinds >= 1, "the final unbind did not run");
            Assert.Equal(0, report.TotalViolations);
            Assert.True(report.Packets.AddsUp);
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void The_first_signal_stops_the_run_and_keeps_the_process_alive_and_a_second_one_is_left_to_end_it()
    {
        using var stop = new ChaosStop();
        var first = new PosixSignalContext(PosixSignal.SIGTERM);
        var second = new PosixSignalContext(PosixSignal.SIGINT);

        stop.OnSignal(first);
        stop.OnSignal(second);

        Assert.True(first.Cancel);
        Assert.False(second.Cancel);
        Assert.True(stop.Token.IsCancellationRequested);
        Assert.Equal(ChaosStopReason.Terminate, stop.Reason);
        Assert.Equal(ChaosCommand.ExitTerminated, ChaosStop.ExitCodeOf(stop.Reason));
    }

    [Fact]
    public void Sigint_asks_for_an_interrupt_whose_exit_code_is_130()
    {
        using var stop = new ChaosStop();
        var context = new PosixSignalContext(PosixSignal.SIGINT);

        stop.OnSignal(context);

        Assert.True(context.Cancel);
        Assert.Equal(ChaosStopReason.Interrupt, stop.Reason);
        Assert.Equal(130, ChaosStop.ExitCodeOf(stop.Reason));
    }

    /// <summary>
    /// The real thing: the built command in a process of its own, sent SIGTERM by the kernel. (SIGINT cannot be
    /// tested this way everywhere: a shell starts background jobs with SIGINT ignored, the child inherits that,
    /// and .NET keeps an ignored SIGINT ignored.)
    /// </summary>
    [Fact]
    public async Task A_real_sigterm_to_the_command_process_ends_in_a_cancelled_report_and_exit_143()
    {
        string assembly = typeof(ChaosCommand).Assembly.Location;
        string json = Path.Combine(Path.GetTempPath(), $"chaos-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { assembly, "chaos", "--seed", "9", "--duration", "60s", "--devices", "1", "--consumers", "3", "--rate", "2000", "--plain", "--json", json },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        var output = new System.Text.StringBuilder();
        try
        {
            // The first progress line says traffic is flowing.
            while (await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) is { } line)
            {
                output.AppendLine(line);
                if (line.Contains(" running ", StringComparison.Ordinal))
                {
                    break;
                }
            }

            using (Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }

            output.Append(await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(45)));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

            Assert.True(ChaosCommand.ExitTerminated == process.ExitCode, $"exit {process.ExitCode}\n{output}\n{await error}");
            Assert.Contains("CANCELLED: stopped after", output.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("PASS", output.ToString(), StringComparison.Ordinal);
            Assert.Contains("Stopping early", await error, StringComparison.Ordinal);

            // Stopped under a random unbind cycle, the run must still end in a complete, clean unbind (the SIGTERM
            // must not also start Akka's own shutdown under that cycle).
            ChaosReport report = ChaosReportJson.Deserialize(await File.ReadAllTextAsync(json))!;
            Assert.True(report.Cancelled);
            Assert.Equal(0, report.TotalViolations);
            Assert.True(report.Unbinds >= 1, "the final unbind did not run");
            Assert.DoesNotContain(report.Problems, p => !p.StartsWith("the run was cancelled", StringComparison.Ordinal));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            File.Delete(json);
        }
    }

    private static async Task<(int Exit, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        using var stop = new ChaosStop();
        int exit = await ChaosCommand.InvokeAsync(args, output, error, stop);
        string errorText = error.ToString();
        Assert.DoesNotContain("System.", errorText, StringComparison.Ordinal);
        return (exit, output.ToString(), errorText);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
