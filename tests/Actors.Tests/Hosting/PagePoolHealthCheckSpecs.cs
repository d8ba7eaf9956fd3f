using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Netmem.Actors.Devices;
using Netmem.Actors.Health;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Pool;
using Netmem.Pool.Dma;
using Netmem.Simulation;
using Netmem.Simulation.Traffic;
using Netmem.Stack.Actors;
using Xunit;

namespace Netmem.Actors.Tests.Hosting;

/// <summary>
/// The hosted runtime's health check, read the way a host's <c>/healthz</c> reads it (through the host's health
/// check service), with each failure planted: a pool stalled by a consumer that holds its pages, an unbind stuck on
/// a device whose unmaps block, a device violation.
/// </summary>
public sealed class PagePoolHealthCheckSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_bound_runtime_with_nothing_wrong_is_healthy_under_the_name_pagepool()
    {
        await using var run = await HostedRun.StartAsync(holding: false);
        await run.Device.Ask<Bound>(Bind.Instance, AskTimeout);

        HealthReportEntry entry = await run.CheckAsync();

        Assert.Equal(HealthStatus.Healthy, entry.Status);
        Assert.Contains("no unbind stuck, no device violation or leaked mapping, no stalled pool", entry.Description);
        Assert.Equal("bound", entry.Data["device eth0"]);
    }

    [Fact]
    public async Task A_pool_stalled_after_unbind_makes_it_degraded_naming_the_pool_and_how_long_and_the_stall_is_logged()
    {
        await using var run = await HostedRun.StartAsync(holding: true);
        await run.Device.Ask<Bound>(Bind.Instance, AskTimeout);
        await WaitUntil(() => run.Runtime.GetPoolInfos().Sum(p => p.Inflight) > 0, "the consumer holds pages");

        UnbindReport report = (await run.Device.Ask<Unbound>(Unbind.Instance, AskTimeout)).Report;
        HealthReportEntry entry = await WaitForStatusAsync(run, HealthStatus.Degraded);

        Assert.True(report.StillHeld > 0, "the consumer still holds pages after the unbind");
        Assert.Matches(@"stalled pool shutdown: [0-9]+ inflight, [0-9.]+ s \(pool eth0-rx0, id [0-9]+\)", entry.Description);
        Assert.Contains(run.Logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("stalled pool shutdown:") && e.Message.Contains("pool eth0-rx0"));
    }

    [Fact]
    public async Task An_unbind_stuck_on_a_device_whose_unmap_blocks_makes_it_unhealthy_until_the_device_returns()
    {
        TimedDevice? dma = null;
        await using var run = await HostedRun.StartAsync(holding: true, decorate: (_, inner) => dma = new TimedDevice(inner));
        await run.Device.Ask<Bound>(Bind.Instance, AskTimeout);
        await WaitUntil(() => run.Runtime.GetPoolInfos().Sum(p => p.Inflight) > 0, "the consumer holds pages");
        dma!.HoldUnmaps();

        Task<Unbound> unbinding = run.Device.Ask<Unbound>(Unbind.Instance, Patience);
        HealthReportEntry stuck = await WaitForStatusAsync(run, HealthStatus.Unhealthy);
        dma.Release();
        await unbinding;

        Assert.Contains("device eth0 is stuck unbinding: it waits for", stuck.Description);
        Assert.Equal("unbinding", stuck.Data["device eth0"]);
    }

    [Fact]
    public async Task A_device_violation_in_the_last_unbind_makes_it_unhealthy_and_a_clean_unbind_after_a_rebind_clears_it()
    {
        await using var run = await HostedRun.StartAsync(holding: false);
        await run.Device.Ask<Bound>(Bind.Instance, AskTimeout);
        run.Simulated.Iommu.Unmap(0xdead_0000, 4096, DmaDirection.FromDevice);

        UnbindReport violated = (await run.Device.Ask<Unbound>(Unbind.Instance, AskTimeout)).Report;
        HealthReportEntry unhealthy = await WaitForStatusAsync(run, HealthStatus.Unhealthy);
        await run.Device.Ask<Bound>(Bind.Instance, AskTimeout);
        UnbindReport clean = (await run.Device.Ask<Unbound>(Unbind.Instance, AskTimeout)).Report;
        HealthReportEntry healthy = await WaitForStatusAsync(run, HealthStatus.Healthy);

        Assert.Equal(1, violated.DeviceViolations);
        Assert.Contains("device eth0: its last unbind (bind 1) saw 1 device violation(s) and 0 leaked mapping(s)", unhealthy.Description);
        Assert.Equal(0, clean.DeviceViolations);
        Assert.Equal("unbound", healthy.Data["device eth0"]);
        Assert.Equal(2, run.Runtime.LastUnbinds["eth0"].Generation);
    }

    [Fact]
    public async Task A_mapping_leaked_at_the_last_unbind_makes_it_unhealthy()
    {
        await using var run = await HostedRun.StartAsync(holding: false);
        await run.Device.Ask<Bound>(Bind.Instance, AskTimeout);
        // A mapping made behind every pool's back: no pool unmaps or revokes it, so the teardown finds it leaked.
        run.Simulated.Iommu.Map(new DmaBuffer(PageId: 1, HostAddress: 0x1000, Length: 4096), DmaDirection.FromDevice);

        UnbindReport leaked = (await run.Device.Ask<Unbound>(Unbind.Instance, AskTimeout)).Report;
        HealthReportEntry unhealthy = await WaitForStatusAsync(run, HealthStatus.Unhealthy);

        Assert.Equal(1, leaked.LeakedMappings);
        Assert.Contains("device eth0: its last unbind (bind 1) saw", unhealthy.Description);
        Assert.Contains("and 1 leaked mapping(s)", unhealthy.Description);
    }

    [Fact]
    public void Health_check_options_that_are_not_positive_are_refused_with_a_message()
    {
        var options = new PagePoolRuntimeOptions
        {
            Devices = [new DeviceOptions { Device = Simulated("eth0") }],
            HealthCheck = new PagePoolHealthCheckOptions { StalledPoolAfter = TimeSpan.Zero },
        };

        var refused = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("StalledPoolAfter and StatusTimeout must be positive", refused.Message);
    }

    private static async Task<HealthReportEntry> WaitForStatusAsync(HostedRun run, HealthStatus wanted)
    {
        DateTime deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            HealthReportEntry entry = await run.CheckAsync();
            if (entry.Status == wanted)
            {
                return entry;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the health check stayed {entry.Status} ({entry.Description}); wanted {wanted}");
            await Task.Delay(50);
        }
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    private static SimulatedDevice Simulated(string name, Func<int, IDmaDevice, IDmaDevice>? decorate = null) => new(new SimulatedDeviceOptions
    {
        Name = name,
        TrafficSourceFactory = _ => new SyntheticTrafficSource(new SyntheticTrafficOptions { Flows = [DeviceHarness.Flow(0)], MaxFrames = 200 }),
        DmaDeviceDecorator = decorate,
    });

    private sealed class HostedRun : IAsyncDisposable
    {
        private HostedRun(IHost host, SimulatedDevice simulated, RecordingLoggerProvider logs)
        {
            Host = host;
            Simulated = simulated;
            Logs = logs;
            Runtime = host.Services.GetRequiredService<PagePoolRuntime>();
        }

        public IHost Host { get; }

        public SimulatedDevice Simulated { get; }

        public RecordingLoggerProvider Logs { get; }

        public PagePoolRuntime Runtime { get; }

        public IActorRef Device => Runtime.Devices["eth0"];

        public static async Task<HostedRun> StartAsync(bool holding, Func<int, IDmaDevice, IDmaDevice>? decorate = null)
        {
            SimulatedDevice simulated = Simulated("eth0", decorate);
            var logs = new RecordingLoggerProvider();
            var options = new PagePoolRuntimeOptions
            {
                Devices =
                [
                    new DeviceOptions
                    {
                        Device = simulated,
                        BindOnStart = false,
                        DestroyTimeout = TimeSpan.FromMilliseconds(300),
                        PoolOptions = _ => new PagePoolOptions { StallLogFirstAfter = TimeSpan.FromMilliseconds(200) },
                    },
                ],
                Consumers = [new ConsumerSpec("holder", [DeviceHarness.Flow(0)], 4_096, holding ? ConsumerBehavior.HoldUntilReleased : ConsumerBehavior.ReleaseAtOnce)],
                HealthCheck = new PagePoolHealthCheckOptions { StalledPoolAfter = TimeSpan.FromMilliseconds(200) },
            };
            IHost host = new HostBuilder()
                .ConfigureLogging(logging => logging.AddProvider(logs))
                .ConfigureServices(services => services.AddPagePoolRuntime("health", options, (builder, _) => builder
                    .AddHocon("akka.coordinated-shutdown.run-by-clr-shutdown-hook = off", HoconAddMode.Prepend)))
                .Build();
            await host.StartAsync();
            return new HostedRun(host, simulated, logs);
        }

        public async Task<HealthReportEntry> CheckAsync()
        {
            HealthReport report = await Host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            return report.Entries[PagePoolHealthCheck.Name];
        }

        public async ValueTask DisposeAsync()
        {
            await Host.StopAsync();
            Host.Dispose();
        }
    }
}
