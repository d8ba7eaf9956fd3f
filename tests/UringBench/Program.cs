using System.Globalization;
using Netmem.UringBench.Orchestration;
using Netmem.UringBench.Receivers;

// The io_uring device end to end against the receive loops a .NET user would write, by the receiver's CPU per
// packet and by packets delivered, on loopback UDP inside a private network namespace (root needed).
//   UringBench                       full run: 50 k/s, 100 k/s and the sender's maximum, 2 s each, 3 times
//   --rates 50000,0 --repeat 5 --only io_uring   other rates (0: the sender's maximum), repetitions, receivers
//   UringBench --smoke               CI: a few thousand packets per receiver at two rates, correctness checked
//   UringBench --out docs/benchmarks writes io-uring-receive-results.md and io-uring-receive-cpu.png there
// Internal: `--receiver NAME --port P --first-source-port S --flows F` is one receiver's child process.
if (args.Length > 0 && args[0] == "--receiver")
{
    string name = args[1];
    IBenchReceiver receiver = name switch
    {
        "receive-from" => new SyncReceiveFromReceiver(),
        "receive-from-async" => new AsyncSaeaReceiver(),
        "io_uring device" => new UringRuntimeReceiver(),
        _ => throw new ArgumentException($"No receiver is called '{name}'."),
    };
    return ReceiverHost.Run(receiver, Option("--port", 5000), Option("--first-source-port", 40_000), Option("--flows", 4));
}

bool smoke = args.Contains("--smoke");
string? output = args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault();
string? only = args.SkipWhile(a => a != "--only").Skip(1).FirstOrDefault();
double seconds = smoke ? 0 : 2;
double[] rates = args.SkipWhile(a => a != "--rates").Skip(1).FirstOrDefault() is { } list
    ? list.Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture)).ToArray()
    : smoke ? [20_000, 0] : [50_000, 100_000, 0];
const int flows = 4;
const int payloadBytes = 64;
const double maxRateGuess = 350_000;

using var ns = new BenchNamespace();
var runner = new BenchmarkRunner(ns, flows, payloadBytes, warmUpCount: smoke ? 1_000 : 50_000, warmUpRate: 50_000);
int repeat = args.SkipWhile(a => a != "--repeat").Skip(1).FirstOrDefault() is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : smoke ? 1 : 3;
string load = File.ReadAllText("/proc/loadavg").Trim();
Console.WriteLine($"load average before the run: {load}");
var results = new List<RunResult>();
foreach (double rate in rates)
{
    for (int repetition = 0; repetition < repeat; repetition++)
    {
        long count = smoke ? 3_000 : (long)((rate > 0 ? rate : maxRateGuess) * seconds);
        foreach (string receiver in BenchmarkRunner.Receivers.Where(r => only is null || r.Contains(only, StringComparison.Ordinal)))
        {
            RunResult result = runner.Run(receiver, rate, count);
            results.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ResultsReport.RateName(rate),8} {receiver,-20} sent {result.Sent,8:N0} at {result.SentRate,9:N0}/s  delivered {result.DeliveredPercent,6:F2} %  CPU {result.CpuMicrosecondsPerPacket,6:F2} µs/packet ({result.SystemShare * 100:F0} % kernel)  alloc {result.AllocatedBytesPerPacket,7:F1} B/packet  {result.Detail}"));
        }
    }
}

string table = ResultsReport.Table(results);
Console.WriteLine();
Console.WriteLine(table);
if (output is not null)
{
    Directory.CreateDirectory(output);
    File.WriteAllText(Path.Combine(output, "io-uring-receive-results.md"), $"Load average before the run: {load}; after: {File.ReadAllText("/proc/loadavg").Trim()}.\n\n{table}");
    ResultsReport.Plot(results, Path.Combine(output, "io-uring-receive-cpu.png"));
    Console.WriteLine($"Wrote {output}/io-uring-receive-results.md and io-uring-receive-cpu.png.");
}

// Correctness, never timing: every receiver got packets, and the io_uring device ended clean.
bool failed = results.Any(r => r.Delivered == 0)
    || results.Where(r => r.Receiver == "io_uring device").Any(r =>
        !r.Detail.Contains("violations 0,", StringComparison.Ordinal) || !r.Detail.Contains("kernel errors 0,", StringComparison.Ordinal)
        || !r.Detail.Contains("live slots 0,", StringComparison.Ordinal) || !r.Detail.Contains("unbind clean True", StringComparison.Ordinal));
if (failed)
{
    Console.WriteLine("FAILED: a receiver delivered nothing, or the io_uring device did not end clean.");
}

return failed ? 1 : 0;

int Option(string name, int fallback)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
