using System.Globalization;
using Akka.Actor;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Pool;

namespace Netmem.Actors.Health;

/// <summary>
/// The runtime's health, for <c>/healthz</c> and orchestrators (registered as <c>pagepool</c> by
/// <see cref="PagePoolRuntimeHostingExtensions.AddPagePoolRuntime(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, PagePoolRuntimeOptions, Action{Akka.Hosting.AkkaConfigurationBuilder, IServiceProvider}?)"/>):
/// <list type="bullet">
/// <item>unhealthy (the registration's failure status) when a device is stuck in an unbind (it waits on a device
/// call, or its unbind has run longer than its <see cref="Devices.DeviceOptions.MaxUnbindDuration"/>), when a
/// device's last unbind saw device violations or leaked mappings (an IOMMU fault), or when a device does not answer;</item>
/// <item>degraded when a destroyed pool has waited longer than <see cref="PagePoolHealthCheckOptions.StalledPoolAfter"/>
/// for its pages, naming each pool and for how long;</item>
/// <item>healthy otherwise.</item>
/// </list>
/// The description lists every problem found, in words; the data holds each device's state and each problem.
/// </summary>
public sealed class PagePoolHealthCheck : IHealthCheck
{
    /// <summary>The name the hosting extension registers the check under.</summary>
    public const string Name = "pagepool";

    private readonly PagePoolRuntime _runtime;

    /// <summary>Checks <paramref name="runtime"/> with its options' <see cref="PagePoolRuntimeOptions.HealthCheck"/>.</summary>
    public PagePoolHealthCheck(PagePoolRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        PagePoolHealthCheckOptions options = _runtime.HealthCheckOptions;
        var failures = new List<string>();
        var degradations = new List<string>();
        var data = new Dictionary<string, object>();
        IReadOnlyDictionary<string, UnbindReport> lastUnbinds = _runtime.LastUnbinds;

        foreach ((string device, IActorRef supervisor) in _runtime.Devices)
        {
            DeviceStatus status;
            try
            {
                status = await supervisor.Ask<DeviceStatus>(GetDeviceStatus.Instance, options.StatusTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                failures.Add($"device {device} did not answer its status within {Seconds(options.StatusTimeout)} s");
                continue;
            }

            data["device " + device] = status.State.ToString().ToLowerInvariant();
            if (status.WaitingFor is { } waiting)
            {
                failures.Add($"device {device} is stuck unbinding: it waits for {waiting}");
            }
            else if (status.State == DeviceState.Unbinding
                && status.UnbindingSince is { } since
                && DateTimeOffset.UtcNow - since is var running
                && running > _runtime.MaxUnbindDurationOf(device))
            {
                failures.Add($"device {device} has been unbinding for {Seconds(running)} s, longer than its limit of {Seconds(_runtime.MaxUnbindDurationOf(device))} s");
            }

            if (lastUnbinds.TryGetValue(device, out UnbindReport? report) && (report.DeviceViolations > 0 || report.LeakedMappings > 0))
            {
                failures.Add($"device {device}: its last unbind (bind {report.Generation}) saw {report.DeviceViolations} device violation(s) and {report.LeakedMappings} leaked mapping(s)");
            }
        }

        foreach (PagePoolInfo pool in _runtime.GetPoolInfos())
        {
            if (pool.StalledFor >= options.StalledPoolAfter && pool.DescribeStall() is { } stall)
            {
                degradations.Add(stall);
            }
        }

        if (failures.Count > 0)
        {
            data["problems"] = failures.Concat(degradations).ToArray();
            return new HealthCheckResult(context.Registration.FailureStatus, string.Join("; ", failures.Concat(degradations)), data: data);
        }

        if (degradations.Count > 0)
        {
            data["problems"] = degradations.ToArray();
            return HealthCheckResult.Degraded(string.Join("; ", degradations), data: data);
        }

        return HealthCheckResult.Healthy(
            $"{_runtime.Devices.Count} device(s): no unbind stuck, no device violation or leaked mapping, no stalled pool", data);
    }

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
}
