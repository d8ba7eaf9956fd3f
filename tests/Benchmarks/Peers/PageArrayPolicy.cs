using Microsoft.Extensions.ObjectPool;

namespace Netmem.Benchmarks.Peers;

/// <summary>Lets <see cref="DefaultObjectPool{T}"/> pool 4 KiB arrays as they are (no reset on return).</summary>
public sealed class PageArrayPolicy(int pageSize) : PooledObjectPolicy<byte[]>
{
    public override byte[] Create() => new byte[pageSize];

    public override bool Return(byte[] obj) => true;
}
