using System.Buffers.Binary;
using System.Diagnostics;

namespace Netmem.UringBench.Receivers;

/// <summary>
/// Per-datagram latency, read time minus the send time the sender wrote into the payload (bytes 8–15, little-endian
/// <see cref="Stopwatch.GetTimestamp"/>), into an array preallocated and touched before the run, so recording allocates
/// nothing and faults no page in. Entry i is the i-th datagram the receiver delivered (warm-up included: the host
/// reads only the entries after GO). Written by the one thread that delivers, read by the host after the receiver
/// has stopped.
/// </summary>
/// <remarks>
/// Sender and receiver are processes on the same machine reading the same clock: on Linux, <see cref="Stopwatch"/>
/// is CLOCK_MONOTONIC in nanoseconds (<see cref="Stopwatch.Frequency"/> is 10⁹), which the C receiver reads with
/// clock_gettime directly; <see cref="Ticks"/> is pinned so the C receiver can write into it.
/// </remarks>
internal sealed class LatencyLog
{
    public const int TimestampOffset = 8;

    public LatencyLog(int capacity)
    {
        Ticks = GC.AllocateArray<long>(capacity, pinned: true);
        for (int i = 0; i < capacity; i += 512)
        {
            Ticks[i] = -1;
        }
    }

    public long[] Ticks { get; }

    /// <summary>Records the <paramref name="index"/>-th delivered datagram, whose payload is <paramref name="payload"/>.</summary>
    public void Record(long index, ReadOnlySpan<byte> payload)
    {
        long now = Stopwatch.GetTimestamp();
        if (index < Ticks.Length && payload.Length >= TimestampOffset + 8)
        {
            Ticks[index] = now - BinaryPrimitives.ReadInt64LittleEndian(payload[TimestampOffset..]);
        }
    }

    /// <summary>p50, p90, p99 and the maximum, in µs, over the entries [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public (double P50, double P90, double P99, double Max) Percentiles(long from, long to)
    {
        to = Math.Min(to, Ticks.Length);
        if (to <= from)
        {
            return (double.NaN, double.NaN, double.NaN, double.NaN);
        }

        Span<long> window = Ticks.AsSpan((int)from, (int)(to - from));
        window.Sort();
        double perMicrosecond = Stopwatch.Frequency / 1e6;
        return (At(window, 0.50) / perMicrosecond, At(window, 0.90) / perMicrosecond, At(window, 0.99) / perMicrosecond, window[^1] / perMicrosecond);
    }

    /// <summary>The nearest-rank quantile <paramref name="q"/> of sorted <paramref name="sorted"/>.</summary>
    private static long At(ReadOnlySpan<long> sorted, double q) => sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(q * sorted.Length))];
}
