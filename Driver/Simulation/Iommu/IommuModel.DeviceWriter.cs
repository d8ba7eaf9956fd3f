namespace Netmem.Simulation;

public sealed partial class IommuModel
{
    /// <summary>
    /// A DMA engine of the device (one per simulated RX queue, and one per thread for <see cref="DmaWrite"/>): it
    /// writes into pages in batches, each write judged against the page's mapping before a byte moves and written
    /// straight into the page's memory, with no staging copy.
    /// </summary>
    /// <remarks>
    /// Used by one thread at a time. <see cref="BeginBatch"/> and <see cref="EndBatch"/> bracket a batch; inside it,
    /// <see cref="TryOpen"/> judges one write and hands out the memory to write into, the caller writes at most the
    /// bytes it opened, and <see cref="Close"/> counts the write. The batch is this engine's entry in the model's
    /// writer protocol (invariant 2 of <see cref="IommuModel"/>): an unmap that returns during a batch has waited for
    /// the batch's end, so the memory handed out stays the page's for as long as the batch may write into it.
    /// </remarks>
    internal sealed class DeviceWriter
    {
        private readonly IommuModel _model;

        // Odd while a batch is open; written only by the thread that uses the engine, read by enders (invariant 2).
        private long _batch;
        private long _writes;
        private bool _retired;
        private IommuViolationKind? _refusal;
        private ulong _address;
        private int _offset;
        private byte[]? _scratch;

        public DeviceWriter(IommuModel model)
        {
            _model = model;
            model.Register(this);
        }

        /// <summary>Writes attempted through this engine, refused ones included.</summary>
        public long Writes => Volatile.Read(ref _writes);

        /// <summary>Whether a batch is open now, and which (its number, odd); read by an ender (invariant 2).</summary>
        public long Batch => Volatile.Read(ref _batch);

        /// <summary>Opens a batch of writes: one locked instruction, a full fence (invariant 2).</summary>
        /// <exception cref="InvalidOperationException">A batch is already open on this engine.</exception>
        /// <exception cref="ObjectDisposedException">The engine was retired.</exception>
        public void BeginBatch()
        {
            ObjectDisposedException.ThrowIf(_retired, this);
            if ((_batch & 1) != 0)
            {
                throw new InvalidOperationException("A batch of DMA writes is already open on this engine; end it first.");
            }

            Interlocked.Increment(ref _batch);
        }

        /// <summary>Ends the batch: every byte written in it is in memory before an ender can see it ended (a release store).</summary>
        public void EndBatch() => Volatile.Write(ref _batch, _batch + 1);

        /// <summary>
        /// Judges a device write of up to <paramref name="capacity"/> bytes at <paramref name="dmaAddress"/> +
        /// <paramref name="offset"/> as <see cref="DmaWrite"/> does, and gives the memory to write into: the page's,
        /// or, for unreadable device memory and for a refused write, scratch memory whose bytes go nowhere. Returns
        /// whether the write may land; a refusal is recorded at <see cref="Close"/> only if a frame was written.
        /// </summary>
        /// <exception cref="InvalidOperationException">No batch is open.</exception>
        public bool TryOpen(ulong dmaAddress, int offset, int capacity, out Span<byte> destination)
        {
            if ((_batch & 1) == 0)
            {
                throw new InvalidOperationException("A DMA write is opened inside a batch (BeginBatch … EndBatch).");
            }

            _address = dmaAddress;
            _offset = offset;
            _refusal = _model.JudgeWrite(dmaAddress, offset, capacity, out Mapping? mapping);
            if (mapping is null || mapping.Buffer.HostAddress == 0)
            {
                destination = Scratch(capacity);
            }
            else
            {
                unsafe
                {
                    destination = new Span<byte>((byte*)mapping.Buffer.HostAddress + offset, capacity);
                }
            }

            return mapping is not null;
        }

        /// <summary>
        /// Ends the write <see cref="TryOpen"/> judged. If bytes were written (<paramref name="written"/>, e.g. a frame
        /// arrived) it counts as a device write of <paramref name="length"/> bytes, and a refused one is recorded as a
        /// violation.
        /// </summary>
        public void Close(bool written, int length)
        {
            if (!written)
            {
                return;
            }

            Volatile.Write(ref _writes, _writes + 1);
            if (_refusal is { } kind)
            {
                _model.Record(kind, _address, WriteDetail(kind, _offset, length));
            }
        }

        /// <summary>Leaves the model's list of engines (its writes stay counted); outside a batch, once the engine is done.</summary>
        public void Retire()
        {
            if (!_retired)
            {
                _model.Unregister(this);
                _retired = true;
            }
        }

        private Span<byte> Scratch(int capacity)
        {
            if (_scratch is null || _scratch.Length < capacity)
            {
                _scratch = new byte[capacity];
            }

            return _scratch.AsSpan(0, capacity);
        }
    }
}
