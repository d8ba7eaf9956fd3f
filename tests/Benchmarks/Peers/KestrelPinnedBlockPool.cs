using System.Buffers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Netmem.Benchmarks.Peers;

/// <summary>
/// Kestrel's pinned block pool, obtained the public way: the <see cref="IMemoryPoolFactory{T}"/> that
/// <c>UseKestrelCore</c> registers in DI (a <c>PinnedBlockMemoryPoolFactory</c>, which creates
/// <c>PinnedBlockMemoryPool</c>s of 4 KiB blocks). No server is started.
/// </summary>
public sealed class KestrelPinnedBlockPool : IDisposable
{
    private readonly WebApplication _host;

    public KestrelPinnedBlockPool()
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        _host = builder.Build();
        IMemoryPoolFactory<byte> factory = _host.Services.GetRequiredService<IMemoryPoolFactory<byte>>();
        Pool = factory.Create(new MemoryPoolOptions { Owner = "benchmarks" });
    }

    public MemoryPool<byte> Pool { get; }

    public void Dispose()
    {
        Pool.Dispose();
        ((IDisposable)_host).Dispose();
    }
}
