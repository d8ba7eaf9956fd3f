using Netmem.Stack.Parsing;

namespace Netmem.Simulation.Traffic;

/// <summary>
/// Generated traffic: frames of a weighted size mix over a set of flows, arriving at a fixed rate into a bounded
/// NIC FIFO. Each frame's payload is seeded from its sequence number, so a reader can check it arrived intact.
/// </summary>
/// <remarks>
/// A frame is copied from a <see cref="FrameTemplate"/> of its flow and length, built by <see cref="FrameBuilder"/>
/// the first time that flow and length are sent, instead of being built anew: the simulated NIC's work is charged
/// to the driver's poll, and a real NIC's is not.
/// </remarks>
public sealed class SyntheticTrafficSource : ITrafficSource
{
    private readonly SyntheticTrafficOptions _options;
    private readonly Random _random;
    private readonly FlowKey[] _flows;
    private readonly FrameSizeWeight[] _frameSizes;
    private readonly int _totalWeight;

    // Per flow and size (flow-major): the frame length before any cut to the destination, and its template.
    private readonly int[] _uncutLengths;
    private readonly FrameTemplate?[] _templates;
    private readonly long _startTimestamp;
    private long _arrivedAccounted;
    private long _fifo;
    private long _sent;
    private long _missed;
    private bool _stopped;
    private Action? _raise;
    private ITimer? _arrivalTimer;

    /// <summary>A source that starts its arrival clock now, with <paramref name="options"/> copied so later changes to the lists passed do not affect it.</summary>
    /// <exception cref="ArgumentException">No flow, or a frame-size entry with a length or weight that is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A negative rate, or a FIFO of no frames.</exception>
    public SyntheticTrafficSource(SyntheticTrafficOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Flows.Count == 0)
        {
            throw new ArgumentException("Synthetic traffic needs at least one flow.", nameof(options));
        }

        if (options.FrameSizes.Count == 0 || options.FrameSizes.Any(s => s.Weight <= 0 || s.FrameLength <= 0))
        {
            throw new ArgumentException("The frame-size mix needs entries with positive lengths and weights.", nameof(options));
        }

        if (options.FramesPerSecond < 0 || options.FifoFrames <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "FramesPerSecond must be ≥ 0 and FifoFrames > 0.");
        }

        _options = options;
        _random = new Random(options.Seed);

        // Private copies: the per-frame path indexes arrays (no boxed enumerator, no interface calls), and a caller
        // that later changes the lists it passed cannot change the traffic under way.
        _flows = options.Flows.ToArray();
        _frameSizes = options.FrameSizes.ToArray();
        _totalWeight = _frameSizes.Sum(s => s.Weight);
        _uncutLengths = new int[_flows.Length * _frameSizes.Length];
        _templates = new FrameTemplate?[_uncutLengths.Length];
        for (int flow = 0; flow < _flows.Length; flow++)
        {
            int headers = FrameBuilder.HeaderLength(SpecOf(flow, 0));
            for (int size = 0; size < _frameSizes.Length; size++)
            {
                _uncutLengths[(flow * _frameSizes.Length) + size] = Math.Max(_frameSizes[size].FrameLength, headers);
            }
        }

        _startTimestamp = options.TimeProvider.GetTimestamp();
    }

    /// <summary>Frames handed to the driver.</summary>
    public long FramesSent => Volatile.Read(ref _sent);

    /// <summary>Frames that arrived while the FIFO was full.</summary>
    public long FramesMissed => Volatile.Read(ref _missed);

    /// <summary>Writes the next arrived frame, for the flows in turn, with a size picked from the mix (cut to fit <paramref name="destination"/>); false when none has arrived yet, after <see cref="SyntheticTrafficOptions.MaxFrames"/> frames or after <see cref="Stop"/>.</summary>
    public bool TryReceive(Span<byte> destination, out int length)
    {
        length = 0;
        if (_stopped || _sent >= (_options.MaxFrames ?? long.MaxValue) || !TryTakeArrivedFrame())
        {
            return false;
        }

        FrameTemplate template = TemplateFor((int)(_sent % _flows.Length), PickFrameSize(), destination.Length);
        template.WriteTo(destination, (byte)_sent);
        length = template.FrameLength;
        Volatile.Write(ref _sent, _sent + 1);
        return true;
    }

    /// <summary>Stops the source: every later <see cref="TryReceive"/> returns false, and no arrival raises any more.</summary>
    public void Stop()
    {
        _stopped = true;
        _arrivalTimer?.Dispose();
    }

    /// <summary>Connects the wire's interrupt line: a one-shot timer at the next frame's arrival time raises it.</summary>
    public bool ConnectInterrupt(Action raise)
    {
        ArgumentNullException.ThrowIfNull(raise);
        Volatile.Write(ref _raise, raise);
        return true;
    }

    /// <summary>
    /// Whether a frame has arrived; when none has, sets the one timer to the next frame's arrival time (frames arrive
    /// on the clock, so that is the moment the NIC would raise its interrupt). None is set once the source is stopped
    /// or has sent its last frame.
    /// </summary>
    public bool CheckArrival()
    {
        if (_stopped || _sent >= (_options.MaxFrames ?? long.MaxValue))
        {
            return false;
        }

        if (_options.FramesPerSecond == 0 || _fifo > 0)
        {
            return true;
        }

        TimeSpan elapsed = _options.TimeProvider.GetElapsedTime(_startTimestamp);
        long arrived = (long)(elapsed.TotalSeconds * _options.FramesPerSecond);
        if (arrived > _arrivedAccounted)
        {
            return true;
        }

        TimeSpan nextArrival = TimeSpan.FromSeconds((arrived + 1) / (double)_options.FramesPerSecond);
        _arrivalTimer ??= _options.TimeProvider.CreateTimer(static source => ((SyntheticTrafficSource)source!).OnArrival(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _arrivalTimer.Change(nextArrival > elapsed ? nextArrival - elapsed : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        return false;
    }

    private void OnArrival()
    {
        if (!Volatile.Read(ref _stopped))
        {
            Volatile.Read(ref _raise)?.Invoke();
        }
    }

    /// <summary>
    /// Moves the frames that arrived since the last call into the FIFO (counting those that overflow it as missed)
    /// and takes one out.
    /// </summary>
    private bool TryTakeArrivedFrame()
    {
        if (_options.FramesPerSecond == 0)
        {
            return true;
        }

        double seconds = _options.TimeProvider.GetElapsedTime(_startTimestamp).TotalSeconds;
        long arrived = (long)(seconds * _options.FramesPerSecond);
        long newlyArrived = arrived - _arrivedAccounted;
        _arrivedAccounted = arrived;
        long room = _options.FifoFrames - _fifo;
        if (newlyArrived > room)
        {
            Volatile.Write(ref _missed, _missed + newlyArrived - room);
            newlyArrived = room;
        }

        _fifo += newlyArrived;
        if (_fifo == 0)
        {
            return false;
        }

        _fifo--;
        return true;
    }

    /// <summary>
    /// The template of <paramref name="flow"/>'s frames of the size at <paramref name="size"/>, cut to
    /// <paramref name="capacity"/>; built on first use, and again only if the cut length changes.
    /// </summary>
    private FrameTemplate TemplateFor(int flow, int size, int capacity)
    {
        int index = (flow * _frameSizes.Length) + size;
        int frameLength = Math.Min(capacity, _uncutLengths[index]);
        if (_templates[index] is not { } template || template.FrameLength != frameLength)
        {
            template = new FrameTemplate(SpecOf(flow, frameLength));
            _templates[index] = template;
        }

        return template;
    }

    private FrameSpec SpecOf(int flow, int frameLength) =>
        new(_flows[flow], frameLength) { VlanCount = _options.VlanCount, OuterVlanId = 100, InnerVlanId = 200 };

    /// <summary>The index of a size drawn from the mix (no draw when there is one size).</summary>
    private int PickFrameSize()
    {
        if (_frameSizes.Length == 1)
        {
            return 0;
        }

        int ticket = _random.Next(_totalWeight);
        for (int i = 0; i < _frameSizes.Length; i++)
        {
            ticket -= _frameSizes[i].Weight;
            if (ticket < 0)
            {
                return i;
            }
        }

        return _frameSizes.Length - 1;
    }
}
