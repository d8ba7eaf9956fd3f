using Netmem.Stack.Parsing;

namespace Netmem.Simulation.Traffic;

/// <summary>
/// One flow's frame of one length, built once by <see cref="FrameBuilder"/>, from which every frame of that flow and
/// length is copied: the headers as they are, the payload from a ramp at the frame's seed.
/// </summary>
/// <remarks>
/// Of what <see cref="SyntheticTrafficSource"/> sends, only the payload changes from frame to frame (byte i is
/// <c>(byte)(seed + i)</c>, the seed being the frame's sequence number); no checksum covers it (the transport
/// checksum is left 0) and the headers hold no per-frame field. So the template is the frame built with seed 0
/// followed by 255 more bytes of the same ramp: the payload for seed s is the template's payload shifted by s, and a
/// frame is two copies, byte for byte what the builder writes for that seed (the wire's spec checks it against the
/// builder).
/// </remarks>
internal sealed class FrameTemplate
{
    private const int RampPeriod = 256;

    private readonly byte[] _bytes;
    private readonly int _payloadOffset;

    /// <summary>Builds the frame <paramref name="spec"/> describes (its seed is ignored) and the ramp after it.</summary>
    public FrameTemplate(in FrameSpec spec)
    {
        _bytes = new byte[spec.FrameLength + RampPeriod - 1];
        FrameLayout layout = FrameBuilder.Write(_bytes, spec with { PayloadSeed = 0 });
        for (int i = layout.PayloadLength; i < layout.PayloadLength + RampPeriod - 1; i++)
        {
            _bytes[layout.PayloadOffset + i] = (byte)i;
        }

        _payloadOffset = layout.PayloadOffset;
        FrameLength = layout.FrameLength;
    }

    /// <summary>The length of every frame written from this template.</summary>
    public int FrameLength { get; }

    /// <summary>Writes the frame with payload seed <paramref name="seed"/> at the start of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination, byte seed)
    {
        _bytes.AsSpan(0, _payloadOffset).CopyTo(destination);
        _bytes.AsSpan(_payloadOffset + seed, FrameLength - _payloadOffset).CopyTo(destination[_payloadOffset..]);
    }
}
