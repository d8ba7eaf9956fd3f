namespace Netmem.Stack.Rx;

/// <summary>
/// The driver's hand-off to the stack: up to one NAPI budget (64) of frames received on one RX queue. It is an
/// ownership transfer: after the driver tells it, every page in it belongs to the receiver, which must deliver or
/// return each one.
/// </summary>
/// <remarks>
/// <para>A batch either stands alone (made with the public constructor) or comes from an <see cref="RxBatchPool"/>
/// and goes back to it once handled, so a driver polling at line rate allocates no batch and no frame array.
/// Ownership of a pooled batch passes along one line: the pool → the driver that rents it and fills it → the stack
/// actor it is told to, which recycles it as the very last thing it does with it. Only a
/// <see cref="Actors.StackQueueActor"/> (or the driver, for a batch it never told) recycles; a batch that becomes a dead
/// letter is abandoned (its pool counts it as no longer out, but never sees it again) and one that any other
/// receiver (a test probe) keeps is simply never given back; both are left to the GC, so nobody who still holds a
/// batch can see it refilled. Its frames never change while it is told: the driver fills it before telling it and
/// the stack only reads it.</para>
/// <para><see cref="Recycle"/> and <see cref="Abandon"/> end a lending by compare-and-swap from "lent", so a second
/// end of one lending is refused instead of putting the batch in the free list twice or giving its pool back a
/// lending it did not lose.</para>
/// </remarks>
public sealed class RxBatch
{
    /// <summary>The NAPI budget: the most frames one poll hands over.</summary>
    public const int MaxFrames = 64;

    private const int Free = 0;
    private const int Lent = 1;
    private const int Abandoned = 2;

    private readonly RxFrame[] _frames;
    private readonly RxBatchPool? _pool;
    private int _count;
    private int _state;

    /// <summary>A batch of its own (never recycled) holding a copy of <paramref name="frames"/>, which are Ethernet frames.</summary>
    public RxBatch(string device, int queueIndex, ReadOnlySpan<RxFrame> frames)
        : this(device, queueIndex, frames, RxFrameFormat.Ethernet)
    {
    }

    /// <summary>A batch of its own (never recycled) holding a copy of <paramref name="frames"/>, which hold what <paramref name="format"/> says.</summary>
    public RxBatch(string device, int queueIndex, ReadOnlySpan<RxFrame> frames, RxFrameFormat format)
    {
        Device = device;
        QueueIndex = queueIndex;
        Format = format ?? throw new ArgumentNullException(nameof(format), "A batch needs the frame format of its device: Ethernet frames, or the UDP payloads of a flow.");
        _frames = frames.ToArray();
        _count = _frames.Length;
        _state = Lent;
    }

    internal RxBatch(RxBatchPool pool)
    {
        _pool = pool;
        Device = pool.Device;
        QueueIndex = pool.QueueIndex;
        Format = pool.Format;
        _frames = new RxFrame[MaxFrames];
    }

    /// <summary>The name of the device the frames came from.</summary>
    public string Device { get; }

    /// <summary>The RX queue the frames were received on.</summary>
    public int QueueIndex { get; }

    /// <summary>What the frames hold (whole Ethernet frames, or UDP payloads of one flow), as their device declared it.</summary>
    public RxFrameFormat Format { get; }

    /// <summary>The frames received, in order.</summary>
    public ReadOnlySpan<RxFrame> Frames => _frames.AsSpan(0, _count);

    /// <summary>How many frames the batch holds (at most <see cref="MaxFrames"/>).</summary>
    public int Count => _count;

    /// <summary>True when no more frames fit.</summary>
    public bool IsFull => _count == _frames.Length;

    /// <summary>Adds a frame while the batch is being filled, before it is told; the batch owns its page from then on.</summary>
    /// <exception cref="InvalidOperationException">The batch is full, or is not lent (it is in its pool's free list).</exception>
    public void Add(RxFrame frame)
    {
        if (Volatile.Read(ref _state) != Lent || _count == _frames.Length)
        {
            throw new InvalidOperationException($"{this} cannot take a frame: it is {(_count == _frames.Length ? "full" : "not lent")}.");
        }

        _frames[_count++] = frame;
    }

    /// <summary>The batch for logs: device, queue and frame count.</summary>
    public override string ToString() => $"RxBatch({Device} rx{QueueIndex}, {_count} frames)";

    /// <summary>Takes the batch out of its pool's free list; only the pool calls it.</summary>
    internal void MarkLent()
    {
        _count = 0;
        Volatile.Write(ref _state, Lent);
    }

    /// <summary>
    /// Gives a pooled batch back to its pool once every frame in it was handed on or returned; a standalone batch
    /// has no pool and is left as it is. Only the batch's last holder calls it (the stack actor that handled it, or
    /// the driver for a batch it never told), and must not touch the batch afterwards.
    /// </summary>
    /// <exception cref="InvalidOperationException">This lending already ended.</exception>
    public void Recycle()
    {
        if (_pool is null)
        {
            return;
        }

        EndLending(Free);
        _pool.Return(this);
    }

    /// <summary>
    /// Ends the lending of a batch that will never be handled (a dead letter) without recycling it: its pool stops
    /// counting it as out, and the batch is left to whoever still holds it, then to the GC.
    /// </summary>
    /// <exception cref="InvalidOperationException">This lending already ended.</exception>
    internal void Abandon()
    {
        if (_pool is null)
        {
            return;
        }

        EndLending(Abandoned);
        _pool.EndLending();
    }

    private void EndLending(int endState)
    {
        if (Interlocked.CompareExchange(ref _state, endState, Lent) != Lent)
        {
            throw new InvalidOperationException($"{this} was already recycled or abandoned.");
        }
    }
}
