using Netmem.Actors.Devices;
using Netmem.Stack.Actors;

namespace Netmem.Actors.Hosting;

/// <summary>What a <see cref="PagePoolRuntime"/> runs: its devices and the sockets opened at start.</summary>
public sealed record PagePoolRuntimeOptions
{
    public required IReadOnlyList<DeviceOptions> Devices { get; init; }

    /// <summary>Socket consumers opened when the runtime starts.</summary>
    public IReadOnlyList<ConsumerSpec> Consumers { get; init; } = [];
}
