using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Netmem.Benchmarks;
using Netmem.Benchmarks.Plots;

// `--plot <results dir> <output dir>` renders the PNGs from a finished run's CSV reports; anything else goes to
// BenchmarkDotNet (e.g. `--filter '*Destroy*' --job short`). The exit code is 1 when any benchmark failed, so a CI
// smoke run (`--filter '*' --job dry`) fails on a broken case; timings are never checked.
if (args.Length > 0 && args[0] == "--plot")
{
    string results = args.Length > 1 ? args[1] : "BenchmarkDotNet.Artifacts/results";
    string output = args.Length > 2 ? args[2] : "docs/benchmarks";
    DestroyPlots.Render(results, output);
    EndToEndPlots.Render(results, output);
    return 0;
}

Summary[] summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(args, BenchmarkConfig.Create()).ToArray();
bool failed = summaries.Any(summary => summary.HasCriticalValidationErrors || summary.Reports.Any(report => !report.Success));
return failed ? 1 : 0;
