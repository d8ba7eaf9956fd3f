using Netmem.Actors.Protocol;
using Netmem.Chaos;
using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// Broken supervisor: answers an unbind at once, as if it were done, and only then starts the real unbind in the
/// background (the original kernel bug's shape: report "unbound" while pages are still mapped).
/// </summary>
internal sealed class EarlyUnboundDevice(IDeviceLifecycle inner) : IDeviceLifecycle
{
    public string Device => inner.Device;

    public IommuModel Iommu => inner.Iommu;

    public Task BindAsync(CancellationToken cancellationToken) => inner.BindAsync(cancellationToken);

    public Task<UnbindReport> UnbindAsync(CancellationToken cancellationToken)
    {
        _ = Task.Run(async () =>
        {
            await Task.Delay(100, CancellationToken.None);
            await inner.UnbindAsync(CancellationToken.None);
        }, CancellationToken.None);
        return Task.FromResult(UnbindReport.NothingBound(Device) with { Generation = 1 });
    }
}
