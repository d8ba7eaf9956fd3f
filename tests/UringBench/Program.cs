using System.Globalization;
using Netmem.UringBench.Orchestration;
using Netmem.UringBench.Receivers;

// The io_uring device end to end against the receive loops a .NET user would write, by the receiver's CPU per
// packet and by packets delivered, on loopback UDP inside a private network namespace (root needed).
//   UringBench                       full run: 50 k/s, 100 k/s and the sender's maximum, 2 s each
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
double seconds = smoke ? 0 : 2;
double[] rates = smoke ? [20_000, 0] : [50_000, 100_000, 0];
const int flows = 4;
const int payloadBytes = 64;
const double maxRateGuess = 350_000;

using var ns = new BenchNamespace();
var runner = new BenchmarkRunner(ns, flows, payloadBytes);
var results = new List<RunResult>();
foreach (double rate in rates)
{
    long count = smoke ? 3_000 : (long)((rate > 0 ? rate : maxRateGuess) * seconds);
    foreach (string receiver in BenchmarkRunner.Receivers)
    {
        RunResult result = runner.Run(receiver, rate, count);
        results.Add(result);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{ResultsReport.RateName(rate),8} {receiver,-20} sent {result.Sent,8:N0} at {result.SentRate,9:N0}/s  delivered {result.DeliveredPercent,6:F2} %  CPU {result.CpuMicrosecondsPerPacket,6:F2} µs/packet  alloc {result.AllocatedBytesPerPacket,7:F1} B/packet  {result.Detail}"));
    }
}

string table = ResultsReport.Table(results);
Console.WriteLine();
Console.WriteLine(table);
if (output is not null)
{
    Directory.CreateDirectory(output);
    File.WriteAllText(Path.Combine(output, "io-uring-receive-results.md"), table);
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
