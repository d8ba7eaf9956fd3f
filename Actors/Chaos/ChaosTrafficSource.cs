using Netmem.Simulation.Traffic;

namespace Netmem.Chaos;

/// <summary>
/// The driver-crash seam: a traffic source decorator. The driver asks its source for frames from inside a poll, so
/// a throw here is a crash mid-poll, with the poll's frames and the ring's pages in the driver's hands.
/// </summary>
internal sealed class ChaosTrafficSource : ITrafficSource
{
    private readonly ITrafficSource _inner;
    private readonly DriverFaultSeam _crashes;

    public ChaosTrafficSource(ITrafficSource inner, DriverFaultSeam crashes)
    {
        _inner = inner;
        _crashes = crashes;
    }

    public bool TryReceive(Span<byte> destination, out int length)
    {
        _crashes.MidPoll();
        return _inner.TryReceive(destination, out length);
    }

    public void Stop() => _inner.Stop();

    public bool ConnectInterrupt(Action raise) => _inner.ConnectInterrupt(raise);

    public bool CheckArrival() => _inner.CheckArrival();
}
