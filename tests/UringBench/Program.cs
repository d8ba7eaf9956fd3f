using System.Globalization;
using System.Text.Json;
using Netmem.UringBench.Orchestration;
using Netmem.UringBench.Receivers;

// The io_uring device end to end against the receive loops a .NET user would write and against two bare io_uring
// loops (C# and C), by the receiver's CPU per packet, packets delivered and latency, on loopback UDP inside a private
// network namespace (root needed).
//   UringBench                       full run: 200/s, 1 k/s, 20 k/s, 100 k/s and the sender's maximum, 3 times
//   --rates 200,0 --repeat 5 --only device   other rates (0: the sender's maximum), repetitions, receivers
//   UringBench --smoke               CI: a few thousand packets per receiver, correctness checked, never timing
//   UringBench --out docs/benchmarks writes io-uring-receive-results.md, io-uring-receive-cpu.png and
//                                    io-uring-receive-latency.png there
//   --json PATH                      one object per receiver and rate (see ResultsReport.WriteJson)
//   --plot-latency JSON PNG          redraws the latency plot from such a file, without measuring
// Internal: `[--native LIB] --receiver NAME --port P --first-source-port S --flows F` is one receiver's child process.
int receiverArg = Array.IndexOf(args, "--receiver");
if (receiverArg >= 0)
{
    string name = args[receiverArg + 1];
    IBenchReceiver receiver = name switch
    {
        "receive-from" => new SyncReceiveFromReceiver(),
        "receive-from-async" => new AsyncSaeaReceiver(),
        "bare-io_uring" => new BareUringReceiver(),
        "c-io_uring" => new CUringReceiver(Text("--native") ?? throw new ArgumentException("The C receiver needs --native LIBRARY.")),
        "device-udp" => new UringRuntimeReceiver(udp: true),
        "device-packet" => new UringRuntimeReceiver(udp: false),
        _ => throw new ArgumentException($"No receiver is called '{name}'."),
    };
    return ReceiverHost.Run(receiver, Option("--port", 5000), Option("--first-source-port", 40_000), Option("--flows", 4));
}

if (Text("--plot-latency") is { } latencyJson)
{
    ResultsReport.PlotLatency(ResultsReport.ReadLatencies(latencyJson), args[Array.IndexOf(args, "--plot-latency") + 2]);
    return 0;
}

bool smoke = args.Contains("--smoke");
string? output = Text("--out");
string? only = Text("--only");
string? jsonPath = Text("--json") ?? (smoke ? Path.Combine(Path.GetTempPath(), $"uringbench-smoke-{Environment.ProcessId}.json") : null);
const double seconds = 2;
double[] rates = Text("--rates") is { } list
    ? list.Split(',').Select(r => double.Parse(r, CultureInfo.InvariantCulture)).ToArray()
    : smoke ? [20_000] : [200, 1_000, 20_000, 100_000, 0];
const int flows = 4;
const int payloadBytes = 64;
const double maxRateGuess = 350_000;

string? nativeLibrary = NativeBuild.TryBuild(out string nativeReason);
string[] receivers = BenchmarkRunner.Receivers.Where(r => only is null || r.Contains(only, StringComparison.Ordinal)).ToArray();
if (nativeLibrary is null && receivers.Contains("c-io_uring"))
{
    Console.WriteLine($"c-io_uring: not available ({nativeReason}); the other receivers run.");
    receivers = receivers.Where(r => r != "c-io_uring").ToArray();
}

using var ns = new BenchNamespace();
var runner = new BenchmarkRunner(ns, flows, payloadBytes, warmUpCount: smoke ? 1_000 : 50_000, warmUpRate: 50_000, nativeLibrary);
int repeat = Text("--repeat") is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : smoke ? 1 : 3;
string load = File.ReadAllText("/proc/loadavg").Trim();
Console.WriteLine($"load average before the run: {load}");
var results = new List<RunResult>();
foreach (double rate in rates)
{
    for (int repetition = 0; repetition < repeat; repetition++)
    {
        // At least 1000 datagrams, so the low rates still give a p99 from ten datagrams above it.
        long count = smoke ? 3_000 : (long)Math.Max(1_000, (rate > 0 ? rate : maxRateGuess) * seconds);
        foreach (string receiver in receivers)
        {
            RunResult result = runner.Run(receiver, rate, count);
            results.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ResultsReport.RateName(rate),8} {receiver,-20} sent {result.Sent,8:N0} at {result.SentRate,9:N0}/s  delivered {result.DeliveredPercent,6:F2} %  CPU {result.CpuMicrosecondsPerPacket,6:F2} µs/packet ({result.SystemShare * 100:F0} % kernel)  alloc {result.AllocatedBytesPerPacket,7:F1} B/packet  latency p50 {result.Latency.P50:F1} p99 {result.Latency.P99:F1} max {result.Latency.Max:F1} µs  {result.Detail}"));
        }
    }
}

string table = ResultsReport.Table(results);
string latencyTable = ResultsReport.LatencyTable(results);
Console.WriteLine();
Console.WriteLine(table);
Console.WriteLine(latencyTable);
if (output is not null)
{
    Directory.CreateDirectory(output);
    File.WriteAllText(Path.Combine(output, "io-uring-receive-results.md"), $"Load average before the run: {load}; after: {File.ReadAllText("/proc/loadavg").Trim()}.\n\n{table}\n{latencyTable}");
    ResultsReport.Plot(results, Path.Combine(output, "io-uring-receive-cpu.png"));
    ResultsReport.PlotLatency(results, Path.Combine(output, "io-uring-receive-latency.png"));
    Console.WriteLine($"Wrote {output}/io-uring-receive-results.md, io-uring-receive-cpu.png and io-uring-receive-latency.png.");
}

if (jsonPath is not null)
{
    ResultsReport.WriteJson(results, jsonPath);
    Console.WriteLine($"Wrote {jsonPath}.");
}

// Correctness, never timing: every receiver delivered and measured its latency, the bare loops ended without an
// error, the devices ended clean, and the JSON parses with one object per receiver and rate.
var failures = new List<string>();
foreach (RunResult result in results)
{
    if (result.Delivered == 0 || !double.IsFinite(result.Latency.P50))
    {
        failures.Add($"{result.Receiver} at {ResultsReport.RateName(result.OfferedRate)} delivered {result.Delivered} datagrams and measured no latency");
    }

    if (result.Detail.StartsWith("failed", StringComparison.Ordinal))
    {
        failures.Add($"{result.Receiver} at {ResultsReport.RateName(result.OfferedRate)} {result.Detail}");
    }

    if (result.Receiver.StartsWith("device", StringComparison.Ordinal)
        && !(result.Detail.Contains("violations 0,", StringComparison.Ordinal) && result.Detail.Contains("kernel errors 0,", StringComparison.Ordinal)
             && result.Detail.Contains("live slots 0,", StringComparison.Ordinal) && result.Detail.Contains("unbind clean True", StringComparison.Ordinal)))
    {
        failures.Add($"{result.Receiver} at {ResultsReport.RateName(result.OfferedRate)} did not end clean: {result.Detail}");
    }
}

if (jsonPath is not null)
{
    using JsonDocument document = JsonDocument.Parse(File.ReadAllText(jsonPath));
    int objects = document.RootElement.GetArrayLength();
    int expected = results.Select(x => (x.Receiver, x.OfferedRate)).Distinct().Count();
    if (objects != expected || document.RootElement.EnumerateArray().Any(o => !o.TryGetProperty("latency_us_p99", out _) || !o.TryGetProperty("cpu_us_per_packet", out _)))
    {
        failures.Add($"the JSON at {jsonPath} holds {objects} objects, not one complete object per receiver and rate ({expected})");
    }
}

foreach (string failure in failures)
{
    Console.WriteLine($"FAILED: {failure}.");
}

return failures.Count > 0 ? 1 : 0;

string? Text(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

int Option(string name, int fallback)
{
    int index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
