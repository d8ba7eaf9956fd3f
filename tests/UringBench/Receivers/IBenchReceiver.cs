namespace Netmem.UringBench.Receivers;

/// <summary>One way to receive the benchmark's datagrams; runs alone in its own child process so its CPU time is its own.</summary>
internal interface IBenchReceiver : IDisposable
{
    /// <summary>Datagrams delivered to the application so far (and, for pooled buffers, given back).</summary>
    long Delivered { get; }

    /// <summary>
    /// Opens the socket(s) on 127.0.0.1:<paramref name="port"/> for flows from source ports <paramref name="firstSourcePort"/>
    /// onwards and starts receiving, recording each delivered datagram's latency in <paramref name="latencies"/>.
    /// </summary>
    void Start(int port, int firstSourcePort, int flows, LatencyLog latencies);

    /// <summary>Stops receiving; returns a line of receiver-specific figures (empty when none).</summary>
    string Stop();
}
