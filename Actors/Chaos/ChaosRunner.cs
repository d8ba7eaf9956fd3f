namespace Netmem.Chaos;

/// <summary>Runs one chaos run to its report.</summary>
public static class ChaosRunner
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
        return await run.RunAsync(progress, cancellationToken).ConfigureAwait(false);
    }
}
