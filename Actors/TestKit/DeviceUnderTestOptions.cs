using Netmem.Actors.Devices;

namespace Netmem.TestKit;

/// <summary>The shape of a <see cref="DeviceUnderTest"/>: name, RX queues, ring, how long to wait, and any runtime option.</summary>
public sealed record DeviceUnderTestOptions
{
    /// <summary>The simulated device's name (a real device keeps its own). Two devices in one test need two names.</summary>
    public string Name { get; init; } = "eth0";

    /// <summary>RX queues, each with its own pool; a flow's frames go to queue <c>SourcePort mod Queues</c>.</summary>
    public int Queues { get; init; } = 1;

    /// <summary>RX descriptors per queue: the pages the driver keeps posted on each ring.</summary>
    public int RingSize { get; init; } = 64;

    /// <summary>
    /// Pools record where each page was allocated (<see cref="Pool.LeakDetectionMode.Paranoid"/>), so a leak report
    /// lists the allocation sites of what is still out. Costly, and the right default for a test.
    /// </summary>
    public bool CaptureAllocationSites { get; init; } = true;

    /// <summary>How long a bind, an unbind, an injection or a query may take before the kit says it did not happen.</summary>
    public TimeSpan Patience { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a leak or accounting assertion waits for pages still on their way back (in a batch, a socket queue
    /// or a consumer's mailbox) before it fails. A passing assertion returns as soon as the figures agree.
    /// </summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Changes the runtime's options for the device before it starts: phase timeouts, driver restarts, a stand-in
    /// driver. The kit has set the device, queues, pools and ring already, and the unbind's phase timeouts to 5 s each
    /// (the runtime's are 1–2 s), so that a loaded test machine does not turn a clean unbind into a timed-out one.
    /// </summary>
    public Func<DeviceOptions, DeviceOptions>? Customize { get; init; }
}
