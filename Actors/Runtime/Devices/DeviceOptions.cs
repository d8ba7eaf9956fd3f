using Akka.Actor;
using Netmem.Driver;
using Netmem.Driver.Devices;
using Netmem.Pool;

namespace Netmem.Actors.Devices;

/// <summary>One device: what it is, its RX queues and pools, its driver and its unbind timeouts.</summary>
public sealed record DeviceOptions
{
    private readonly string? _name;

    /// <summary>The device: the simulated NIC, the kernel through io_uring, or your own <see cref="INetDevice"/>.</summary>
    public required INetDevice Device { get; init; }

    /// <summary>The name its actors and pools go by; the device's own name unless set.</summary>
    public string Name
    {
        get => _name ?? Device.Name;
        init => _name = value;
    }

    /// <summary>RX queues: each gets its own pool, its own receive side of the device and its own stack actor.</summary>
    public int QueueCount { get; init; } = 1;

    /// <summary>
    /// The options of each queue's pool (argument: queue index). The supervisor sets <c>Device</c> and
    /// <c>QueueIndex</c>, and <c>Name</c> when it is null. A shared memory provider may be set here.
    /// </summary>
    /// <remarks>
    /// Under a <see cref="Hosting.PagePoolRuntime"/>, a pool whose options do not set <see cref="PagePoolOptions.PoolSize"/>
    /// (left at its default of 1024, not set to it) gets the recycle ring <see cref="DriverOptions.RecommendedPoolSize"/> gives for the
    /// runtime's consumers (their socket capacities and what they hold), so that returns do not overflow it into
    /// unmaps and new maps; set <c>PoolSize</c> to choose it yourself.
    /// </remarks>
    public Func<int, PagePoolOptions> PoolOptions { get; init; } = _ => new PagePoolOptions();

    /// <summary>The driver's ring size, poll budget, polling intervals and refill retries; checked by <see cref="Validate"/>.</summary>
    public DriverOptions Driver { get; init; } = new();

    /// <summary>How the driver is made; the default is <see cref="DriverActor.Props"/>. Tests put probes here.</summary>
    public Func<DriverSetup, Props>? DriverProps { get; init; }

    /// <summary>Bind as soon as the stack has opened the RX queues (otherwise wait for <see cref="Protocol.Bind"/>).</summary>
    public bool BindOnStart { get; init; } = true;

    /// <summary>How long the driver has to stop and give its pages back before it is stopped.</summary>
    public TimeSpan QuiesceTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the pools have to unmap every page still held before their device access is revoked.</summary>
    public TimeSpan DestroyTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the domain teardown may take before the unbind reports it late (it still waits for it).</summary>
    public TimeSpan TeardownTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often an unbind that waits for a device call says which call and for how long.</summary>
    public TimeSpan StuckCallReportInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Driver restarts allowed within <see cref="DriverRestartWindow"/> before it is stopped for good.</summary>
    public int MaxDriverRestarts { get; init; } = 10;

    /// <summary>The time span over which <see cref="MaxDriverRestarts"/> is counted (the supervisor strategy's <c>withinTimeRange</c>).</summary>
    public TimeSpan DriverRestartWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The longest an unbind takes when every device call returns promptly: the phase timeouts (the quiesce's twice:
    /// once for the driver, once for the supervisor's close of its receive sides) and a margin for revoking. A device call that never returns holds the unbind (and its
    /// <c>Unbound</c>) for as long as it runs: no reply ever overtakes the device.
    /// </summary>
    public TimeSpan MaxUnbindDuration => QuiesceTimeout + QuiesceTimeout + DestroyTimeout + TeardownTimeout + TimeSpan.FromSeconds(1);

    /// <summary>Checks the options; the message says which option is wrong and why.</summary>
    /// <exception cref="ArgumentException">An option is missing or out of range.</exception>
    public void Validate()
    {
        if (Device is null)
        {
            throw new ArgumentException("A device needs a Device to bind.", nameof(Device));
        }

        if (string.IsNullOrWhiteSpace(Name))
        {
            throw new ArgumentException("A device needs a name.", nameof(Name));
        }

        if (QueueCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueCount), QueueCount, $"Device {Name}: QueueCount must be at least 1.");
        }

        foreach ((string option, TimeSpan value) in new[]
        {
            (nameof(QuiesceTimeout), QuiesceTimeout), (nameof(DestroyTimeout), DestroyTimeout),
            (nameof(TeardownTimeout), TeardownTimeout), (nameof(StuckCallReportInterval), StuckCallReportInterval),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(option, value, $"Device {Name}: {option} must be positive.");
            }
        }

        Driver.Validate();
    }
}
