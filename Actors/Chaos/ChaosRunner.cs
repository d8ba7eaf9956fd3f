namespace Netmem.Chaos;

/// <summary>
/// Runs one chaos run to its report. Cancelling the token stops the traffic early; the run still shuts down,
/// unbinds every device, drains and audits, and its report is marked <see cref="ChaosReport.Cancelled"/>.
/// </summary>
internal static class ChaosRunner
{
    public static async Task<ChaosReport> RunAsync(
        ChaosSettings settings,
        ChaosHooks? hooks = null,
        IProgress<ChaosProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        IReadOnlyList<string> problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(settings));
        }

        await using var run = new ChaosRun(settings, hooks ?? ChaosHooks.None);
        ChaosReport report = await run.RunAsync(progress, cancellationToken).ConfigureAwait(false);

        // Cancelled at any moment before the report, traffic or shutdown, the run is not the run that was asked for.
        return cancellationToken.IsCancellationRequested ? report with { Cancelled = true } : report;
    }
}
