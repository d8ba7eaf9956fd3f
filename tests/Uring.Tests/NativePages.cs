using System.Runtime.InteropServices;
using Netmem.Pool.Dma;

namespace Netmem.Uring.Tests;

/// <summary>Page-aligned native memory for specs that map pages without a pool.</summary>
internal sealed unsafe class NativePages : IDisposable
{
    private readonly nint _memory;

    public NativePages(int count)
    {
        Count = count;
        _memory = (nint)NativeMemory.AlignedAlloc((nuint)(count * 4096), 4096);
        NativeMemory.Clear((void*)_memory, (nuint)(count * 4096));
    }

    public int Count { get; }

    public DmaBuffer this[int index] => new((ulong)index, _memory + (index * 4096), 4096);

    public void Dispose() => NativeMemory.AlignedFree((void*)_memory);
}
