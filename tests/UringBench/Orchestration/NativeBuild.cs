using System.Diagnostics;

namespace Netmem.UringBench.Orchestration;

/// <summary>
/// Builds the C receiver (Native/c_uring_receiver.c, copied next to the program) with the machine's gcc into a temporary
/// directory, once per run. Without gcc or the kernel's io_uring header the C receiver is simply not available: the
/// reason is said in words and the other receivers run.
/// </summary>
internal static class NativeBuild
{
    public static string? TryBuild(out string reason)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "Native", "c_uring_receiver.c");
        if (!File.Exists(source))
        {
            reason = $"its source {source} is missing";
            return null;
        }

        string directory = Path.Combine(Path.GetTempPath(), $"uringbench-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        string library = Path.Combine(directory, "libc_uring_receiver.so");
        var info = new ProcessStartInfo("gcc") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string arg in new[] { "-O2", "-Wall", "-shared", "-fPIC", "-o", library, source })
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using Process gcc = Process.Start(info)!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0)
            {
                reason = $"gcc could not build it (is <linux/io_uring.h> installed?): {errors.Trim().Split('\n').FirstOrDefault()}";
                return null;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            reason = "gcc is not installed";
            return null;
        }

        reason = string.Empty;
        return library;
    }
}
