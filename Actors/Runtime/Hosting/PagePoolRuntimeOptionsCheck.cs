using Microsoft.Extensions.Hosting;

namespace Netmem.Actors.Hosting;

/// <summary>Checks the runtime's options as the host starts, before the actor system does.</summary>
internal sealed class PagePoolRuntimeOptionsCheck(PagePoolRuntimeOptions options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        options.Validate();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
