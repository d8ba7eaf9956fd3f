namespace Netmem.Pool.Core;

/// <summary>
/// An exact counter that many threads increment without sharing one cache line: the stand-in for the kernel's
/// per-CPU recycle stats. Each processor increments its own 128-byte-spaced cell; a read sums the cells.
/// </summary>
internal sealed class StripedCounter
{
    private const int CellSpacing = 16;

    private readonly long[] _cells;
    private readonly int _mask;

    public StripedCounter()
    {
        int stripes = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount);
        _cells = new long[stripes * CellSpacing];
        _mask = stripes - 1;
    }

    public void Increment() => Interlocked.Increment(ref _cells[(Thread.GetCurrentProcessorId() & _mask) * CellSpacing]);

    public long Read()
    {
        long sum = 0;
        for (int i = 0; i < _cells.Length; i += CellSpacing)
        {
            sum += Volatile.Read(ref _cells[i]);
        }

        return sum;
    }
}
