namespace Netmem.UringBench.Orchestration;

/// <summary>One receiver at one offered rate.</summary>
/// <param name="Receiver">The receiver's name as the table shows it.</param>
/// <param name="OfferedRate">The rate asked of the sender (packets/s), 0 for as fast as it goes.</param>
/// <param name="SentRate">The rate the sender reached (packets/s).</param>
/// <param name="Sent">Datagrams sent.</param>
/// <param name="Delivered">Datagrams the receiver delivered to the application.</param>
/// <param name="CpuMicroseconds">The receiver process's user + system CPU from the first send to the last delivery.</param>
/// <param name="SystemCpuMicroseconds">The kernel's part of <paramref name="CpuMicroseconds"/>.</param>
/// <param name="AllocatedBytesPerPacket">Bytes allocated per packet in steady state (10 % – 90 % of the run).</param>
/// <param name="Detail">Receiver-specific figures (the io_uring device's counters).</param>
/// <param name="Latency">Read time minus send time over the delivered datagrams, µs: p50, p90, p99, max.</param>
internal sealed record RunResult(string Receiver, double OfferedRate, double SentRate, long Sent, long Delivered, long CpuMicroseconds, long SystemCpuMicroseconds, double AllocatedBytesPerPacket, string Detail, LatencyMicroseconds Latency)
{
    public double DeliveredPercent => Sent == 0 ? 0 : 100.0 * Delivered / Sent;

    public double CpuMicrosecondsPerPacket => Delivered == 0 ? double.NaN : (double)CpuMicroseconds / Delivered;

    public double SystemShare => CpuMicroseconds == 0 ? double.NaN : (double)SystemCpuMicroseconds / CpuMicroseconds;
}

/// <summary>Latency percentiles of one run, in microseconds.</summary>
internal sealed record LatencyMicroseconds(double P50, double P90, double P99, double Max);
