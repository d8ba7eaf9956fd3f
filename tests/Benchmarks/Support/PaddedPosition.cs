using System.Runtime.InteropServices;

namespace Netmem.Benchmarks.Support;

/// <summary>A 64-bit position alone on its cache line (explicit layout cannot be nested in a generic type).</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedPosition
{
    [FieldOffset(64)]
    public long Value;
}
