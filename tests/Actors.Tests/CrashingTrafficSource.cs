using Netmem.Simulation.Traffic;

namespace Netmem.Actors.Tests;

/// <summary>
/// A wire that throws on a chosen frame (a driver crash mid-poll) and, if asked, when the driver closes its queue
/// (a crash during unbind, through <see cref="CrashingRxQueue"/>).
/// </summary>
internal sealed class CrashingTrafficSource(ITrafficSource inner) : ITrafficSource
{
    private long _frames;
    private long _sent;

    /// <summary>The frame (1-based, counted over the source's life) on which <see cref="TryReceive"/> throws once.</summary>
    public long? CrashOnFrame { get; set; }

    public bool CrashOnStop { get; set; }

    public int Crashes { get; private set; }

    /// <summary>The driver quiesced this wire; a new bind needs a new one.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Frames handed to the driver.</summary>
    public long FramesSent => Volatile.Read(ref _sent);

    public bool TryReceive(Span<byte> destination, out int length)
    {
        if (++_frames == CrashOnFrame)
        {
            Crashes++;
            throw new InvalidOperationException($"injected driver crash on frame {_frames}");
        }

        if (!inner.TryReceive(destination, out length))
        {
            return false;
        }

        Volatile.Write(ref _sent, _sent + 1);
        return true;
    }

    public void Stop()
    {
        Stopped = true;
        inner.Stop();
    }

    /// <summary>Called as the driver closes the queue: throws once if <see cref="CrashOnStop"/> is set.</summary>
    public void CrashIfAskedOnClose()
    {
        if (CrashOnStop)
        {
            CrashOnStop = false;
            Crashes++;
            throw new InvalidOperationException("injected driver crash while quiescing");
        }
    }

    public bool ConnectInterrupt(Action raise) => inner.ConnectInterrupt(raise);

    public bool CheckArrival() => inner.CheckArrival();
}
