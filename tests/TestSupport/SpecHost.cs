using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.TestSupport;

/// <summary>
/// The child process of <see cref="NamespacedSpecRunner"/>: inside the user and network namespace it was started in,
/// readies the namespace (lo up, a private /run/netns for <c>ip netns</c>), runs one spec and exits 0 when it passed,
/// 1 with the failure on standard error when it failed, 2 when it was started wrong.
/// </summary>
public static partial class SpecHost
{
    /// <summary>The command-line verb: <c>--run-spec ASSEMBLY TYPE METHOD</c>.</summary>
    public const string RunSpec = "--run-spec";

    private const ulong MsNosuid = 2;
    private const ulong MsNodev = 4;
    private const ulong MsNoexec = 8;

    private static TextWriter s_output = Console.Out;

    /// <summary>The entry point.</summary>
    public static int Main(string[] args)
    {
        if (args is not [RunSpec, string assembly, string type, string method])
        {
            Console.Error.WriteLine($"usage: {RunSpec} ASSEMBLY TYPE METHOD (started by a privileged spec, inside the user and network namespace it made)");
            return Exit(2);
        }

        // The spec's output (what it writes to its test output) is this process's standard output; what it writes
        // straight to the console (an actor system's standard-out logger) is dropped, as xunit drops it in the test host.
        s_output = TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
        Console.SetOut(TextWriter.Null);
        try
        {
            PrepareNamespace();
            RunAsync(assembly, type, method).GetAwaiter().GetResult();
            return Exit(0);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(e);
            return Exit(1);
        }
    }

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string source, string target, string type, ulong flags, string data);

    /// <summary>
    /// Brings lo up and gives <c>ip netns add</c> a /run/netns it may write: the machine's belongs to the machine's
    /// root, so a tmpfs is mounted over it, seen only in this process's mount namespace (over /run, where /run/netns
    /// does not exist yet). Refuses outside a user namespace of its own, where those mounts would be the machine's.
    /// </summary>
    private static void PrepareNamespace()
    {
        if (Privileges.InitialUserNamespace())
        {
            throw new InvalidOperationException("This host runs specs only inside a user namespace of its own (unshare --user --map-root-user --net --mount); it is in the machine's.");
        }

        Run("ip", "link", "set", "lo", "up");
        bool netnsExists = Directory.Exists("/run/netns");
        string target = netnsExists ? "/run/netns" : "/run";
        if (Mount("tmpfs", target, "tmpfs", MsNosuid | MsNodev | MsNoexec, "mode=0755") != 0)
        {
            throw new InvalidOperationException($"Mounting a private tmpfs on {target} failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        Directory.CreateDirectory("/run/netns");
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(30_000) || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {error.Trim()}");
        }
    }

    private static async Task RunAsync(string assemblyPath, string typeName, string methodName)
    {
        Type type = Assembly.LoadFrom(assemblyPath).GetType(typeName, throwOnError: true)!;
        MethodInfo method = type.GetMethod(methodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static, Type.EmptyTypes)
            ?? throw new InvalidOperationException($"{typeName} has no spec {methodName} without arguments.");
        object? instance = method.IsStatic ? null : Create(type);
        try
        {
            if (instance is IAsyncLifetime lifetime)
            {
                await lifetime.InitializeAsync();
            }

            object? result = method.Invoke(instance, BindingFlags.DoNotWrapExceptions, null, null, null);
            if (result is Task task)
            {
                await task;
            }
            else if (result is ValueTask valueTask)
            {
                await valueTask;
            }
        }
        finally
        {
            if (instance is IAsyncLifetime lifetime)
            {
                await lifetime.DisposeAsync();
            }

            if (instance is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (instance is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }
    }

    private static object Create(Type type)
    {
        ConstructorInfo constructor = type.GetConstructors() is [var only] ? only : throw new InvalidOperationException($"{type.FullName} needs exactly one public constructor to run as a privileged spec.");
        object[] arguments = constructor.GetParameters()
            .Select(p => p.ParameterType == typeof(ITestOutputHelper)
                ? new ConsoleOutput()
                : throw new InvalidOperationException($"{type.FullName} takes {p.Name} in its constructor; the class of a privileged spec may take test output and nothing else."))
            .ToArray<object>();
        return constructor.Invoke(BindingFlags.DoNotWrapExceptions, null, arguments, null);
    }

    /// <summary>Ends the process at once, whatever threads the spec left running, once the output is out.</summary>
    private static int Exit(int code)
    {
        s_output.Flush();
        Console.Error.Flush();
        Environment.Exit(code);
        return code;
    }

    /// <summary>The spec's output: the child's standard output, which the parent hands to xunit as the spec's.</summary>
    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => s_output.WriteLine(message);

        public void WriteLine(string format, params object[] args) => s_output.WriteLine(format, args);
    }
}
