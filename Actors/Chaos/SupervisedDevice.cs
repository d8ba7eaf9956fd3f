using Akka.Actor;
using Netmem.Actors.Devices;
using Netmem.Actors.Protocol;
using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Chaos;

/// <summary>A device under its real <see cref="DeviceSupervisor"/>, bound and unbound through the public protocol.</summary>
internal sealed class SupervisedDevice : IDeviceLifecycle
{
    private readonly IActorRef _supervisor;
    private readonly TimeSpan _askTimeout;

    public SupervisedDevice(IActorRef supervisor, DeviceOptions options, IommuModel iommu)
    {
        _supervisor = supervisor;
        Device = options.Name;
        Iommu = iommu;

        // The supervisor bounds every phase itself; the ask only guards against a supervisor that never answers.
        _askTimeout = options.MaxUnbindDuration + TimeSpan.FromSeconds(5);
    }

    public string Device { get; }

    public IommuModel Iommu { get; }

    public Task BindAsync(CancellationToken cancellationToken) =>
        _supervisor.Ask<Bound>(Bind.Instance, _askTimeout, cancellationToken);

    public async Task<UnbindReport> UnbindAsync(CancellationToken cancellationToken) =>
        (await _supervisor.Ask<Unbound>(Unbind.Instance, _askTimeout, cancellationToken).ConfigureAwait(false)).Report;
}
