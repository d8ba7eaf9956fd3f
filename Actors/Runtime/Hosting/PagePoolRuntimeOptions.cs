using System.Diagnostics.Metrics;
using Netmem.Actors.Devices;
using Netmem.Actors.Health;
using Netmem.Stack.Actors;

namespace Netmem.Actors.Hosting;

/// <summary>What a <see cref="PagePoolRuntime"/> runs: its devices and the sockets opened at start.</summary>
public sealed record PagePoolRuntimeOptions
{
    /// <summary>The devices to supervise, each with a unique name.</summary>
    public required IReadOnlyList<DeviceOptions> Devices { get; init; }

    /// <summary>Socket consumers opened when the runtime starts.</summary>
    public IReadOnlyList<ConsumerSpec> Consumers { get; init; } = [];

    /// <summary>
    /// The meter factory every pool publishes its instruments through (unless its own options name one); the hosting
    /// extension passes the host's. Null: the process-wide <c>Netmem.PagePool</c> meter.
    /// </summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>What the runtime's health check (<see cref="PagePoolHealthCheck"/>) counts as a problem.</summary>
    public PagePoolHealthCheckOptions HealthCheck { get; init; } = new();

    /// <summary>Checks every option before anything starts; the message names the device or consumer and what is wrong.</summary>
    /// <exception cref="ArgumentException">An option is missing, duplicated or out of range.</exception>
    public void Validate()
    {
        if (Devices is null || Devices.Count == 0)
        {
            throw new ArgumentException("The runtime needs at least one device to supervise.", nameof(Devices));
        }

        foreach (DeviceOptions device in Devices)
        {
            device.Validate();
        }

        string? duplicate = Devices.GroupBy(d => d.Name).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (duplicate is not null)
        {
            throw new ArgumentException($"Device names must be unique; {duplicate} is used twice.", nameof(Devices));
        }

        if (HealthCheck is null)
        {
            throw new ArgumentException("The runtime needs health check options (leave HealthCheck unset for the defaults).", nameof(HealthCheck));
        }

        HealthCheck.Validate();

        foreach (ConsumerSpec consumer in Consumers ?? [])
        {
            if (string.IsNullOrWhiteSpace(consumer.Name) || consumer.QueueCapacity < 1 || (consumer.Flows.Count == 0 && !consumer.TakesUnmatchedFlows))
            {
                throw new ArgumentException(
                    $"Consumer '{consumer.Name}' needs a name, at least one flow (or to take unmatched flows) and a queue capacity of at least 1.", nameof(Consumers));
            }
        }
    }
}
