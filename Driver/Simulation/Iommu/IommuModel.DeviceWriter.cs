namespace Netmem.Simulation;

public sealed partial class IommuModel
{
    /// <summary>
    /// The DMA engine of one simulated RX queue: it lets the wire write a frame straight into a page through the
    /// model, with no staging copy. <see cref="TryOpen"/> judges the write against the page's mapping before a byte
    /// moves and hands out the page's memory; the wire writes the frame there; <see cref="Close"/> ends the write.
    /// </summary>
    /// <remarks>
    /// Used by one thread at a time (the queue's poll). Between <see cref="TryOpen"/> and <see cref="Close"/> the
    /// write is in progress on its mapping (invariant 2): an unmap of it waits for the close, so the memory handed
    /// out stays the page's for as long as the wire may write into it.
    /// </remarks>
    internal sealed class DeviceWriter
    {
        private readonly IommuModel _model;
        private Mapping? _open;
        private IommuViolationKind? _refusal;
        private ulong _address;
        private int _offset;
        private byte[]? _scratch;
        private long _writes;

        public DeviceWriter(IommuModel model)
        {
            _model = model;
            model.Register(this);
        }

        /// <summary>Writes attempted through this engine, refused ones included.</summary>
        public long Writes => Volatile.Read(ref _writes);

        /// <summary>
        /// Judges a device write of up to <paramref name="capacity"/> bytes at <paramref name="dmaAddress"/> +
        /// <paramref name="offset"/> as <see cref="DmaWrite"/> does, and gives the memory to write into: the page's,
        /// or, for unreadable device memory and for a refused write, scratch memory whose bytes go nowhere. Returns
        /// whether the write may land; a refusal is recorded at <see cref="Close"/> only if a frame was written.
        /// </summary>
        public bool TryOpen(ulong dmaAddress, int offset, int capacity, out Span<byte> destination)
        {
            _address = dmaAddress;
            _offset = offset;
            _refusal = _model.TryEnterWrite(dmaAddress, offset, capacity, out Mapping? mapping);
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

            _open = mapping;
            return mapping is not null;
        }

        /// <summary>
        /// Ends the write <see cref="TryOpen"/> began. If the wire wrote a frame (<paramref name="written"/>) it counts
        /// as a device write, and a refused one is recorded as a violation.
        /// </summary>
        public void Close(bool written, int length)
        {
            _open?.ExitWrite();
            _open = null;
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
