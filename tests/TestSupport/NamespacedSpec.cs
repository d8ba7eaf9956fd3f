using System.Diagnostics;
using System.Text;

namespace Netmem.TestSupport;

/// <summary>How a spec run in a namespace ended: the child's exit code, its output and its standard error.</summary>
public sealed record NamespacedSpecResult(int ExitCode, bool TimedOut, string Output, string Error)
{
    /// <summary>Whether the spec passed: it finished in time and its process exited 0.</summary>
    public bool Passed => !TimedOut && ExitCode == 0;
}

/// <summary>
/// Starts one spec in a child process inside a user (mapped to root), network and mount namespace of its own, and
/// collects how it ended.
/// </summary>
/// <remarks>
/// The child is <see cref="SpecHost"/>, started by the dotnet host with the runtime configuration and dependency list
/// of the spec's test assembly, so it loads the assembly and everything it references as the test host does; it runs
/// exactly the one spec and exits 0 when it passed. Its standard output is the spec's output; its standard error, the
/// failure. Past the patience, or when the run is cancelled, it is killed with anything it started.
/// </remarks>
public static class NamespacedSpec
{
    /// <summary>Runs <paramref name="testClass"/>'s spec <paramref name="method"/> (no arguments) in a namespace of its own.</summary>
    public static async Task<NamespacedSpecResult> RunAsync(Type testClass, string method, TimeSpan patience, CancellationToken cancellationToken = default)
    {
        string assembly = testClass.Assembly.Location;
        string directory = Path.GetDirectoryName(assembly)!;
        string name = Path.GetFileNameWithoutExtension(assembly);
        var start = new ProcessStartInfo(Privileges.NamespaceCommand[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in Privileges.NamespaceCommand[1..].Concat(
        [
            DotnetHost(), "exec",
            "--runtimeconfig", Path.Combine(directory, name + ".runtimeconfig.json"),
            "--depsfile", Path.Combine(directory, name + ".deps.json"),
            typeof(SpecHost).Assembly.Location,
            SpecHost.RunSpec, assembly, testClass.FullName!, method,
        ]))
        {
            start.ArgumentList.Add(argument);
        }

        var output = new StringBuilder();
        var error = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Append(output, line.Data);
        process.ErrorDataReceived += (_, line) => Append(error, line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        waiting.CancelAfter(patience);
        try
        {
            await process.WaitForExitAsync(waiting.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            return new NamespacedSpecResult(-1, TimedOut: true, Text(output), Text(error));
        }

        // WaitForExit without a timeout also waits for the end of the redirected streams: every line is in.
        process.WaitForExit();
        return new NamespacedSpecResult(process.ExitCode, TimedOut: false, Text(output), Text(error));
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is not null)
        {
            lock (text)
            {
                text.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }

    /// <summary>The dotnet host running this test host (tests run under <c>dotnet exec testhost.dll</c>), else the one on the path.</summary>
    private static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : "dotnet";
}
