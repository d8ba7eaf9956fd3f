using System.Numerics;
using Netmem.Pool.Dma;

namespace Netmem.Simulation;

/// <summary>
/// A strict IOMMU model of one device: it implements <see cref="IDmaDevice"/>, records every mapping, performs the
/// device's DMA writes into host memory, and records every misuse of the DMA API as an <see cref="IommuViolation"/>
/// instead of crashing. Tests and chaos runs use it as their oracle.
/// </summary>
/// <remarks>
/// <para>IOVAs are handed out from a bump allocator, one 1 MiB slot per mapping, and never reused. That makes the
/// classification exact without remembering every past mapping: an address at a slot start below the bump pointer
/// that is not live was mapped before and is already unmapped (a double unmap); anything else is unknown.</para>
/// <para><b>Why it is not one lock.</b> The model sits on the simulated device's per-packet path: the driver's poll
/// makes a device write and a <see cref="SyncForCpu"/> for every frame, while consumers on other threads return
/// pages whose release unmaps them. With one lock around everything those threads convoyed on it (14% of the
/// end-to-end case's samples were its contended exit). So the per-packet calls take no lock and make no atomic
/// operation: device writes come in batches (a simulated queue's reap is one), and a batch makes one locked
/// instruction however many frames it writes; map and unmap take one lock of a set of stripes (chosen by
/// the calling processor, so the driver and the consumers rarely meet on one); only the domain's teardown and
/// bind, which must exclude everything, take them all. The model stays exactly as strict: every call is still
/// judged as if the calls ran one at a time in some order consistent with when each started and returned
/// (linearizable), and the argument is below.</para>
/// <para><b>The state.</b></para>
/// <list type="bullet">
/// <item><c>_domain</c>, the domain's generation: even while bound, odd while unbound. Only teardown and bind change
/// it, each holding every stripe, each by one atomic increment, so it only grows and never returns to an earlier
/// value (no ABA).</item>
/// <item>The mapping table: IOVA slot number → <see cref="Mapping"/>, in chunks of 4096 slots found through a
/// directory array. A slot is written once by the map that got it (published before the map returns) and cleared
/// once by the unmap or teardown that ended it; a chunk whose 4096 mappings have all been unmapped is dropped, so
/// the table's memory follows the live mappings, as the dictionary it replaces did. Readers take no lock: a reader
/// holding a stale directory or chunk finds either the mapping (whose own state then says it ended) or nothing,
/// and both read as "not live".</item>
/// <item>Each <see cref="Mapping"/>'s ended flag: set once by the unmap or teardown that ends it, never cleared.</item>
/// <item>The device's DMA engines (<see cref="DeviceWriter"/>: one per simulated RX queue, one per thread that calls
/// <see cref="DmaWrite"/>), in a copy-on-write array, each with a batch number written only by the thread using it:
/// odd while a batch of writes is open. A retired engine (a closed queue) leaves the array; it opens no batch
/// again.</item>
/// </list>
/// <para><b>Invariants, and why they hold.</b></para>
/// <list type="number">
/// <item><em>A mapping ends exactly once.</em> Unmap and teardown end it by a compare-and-swap that sets the ended
/// flag only while it is clear; the loser of a race (two unmaps of one address) sees the flag and records a double
/// unmap. Unmap and teardown never run together (stripes), and an unmap finds nothing to end once teardown has
/// cleared the table.</item>
/// <item><em>No device write lands in a page after the unmap or teardown that ends its mapping has returned.</em> It
/// is a store-buffering handshake between the engine and the ender. The engine opens a batch by an atomic
/// increment of its batch number (odd: open), a full fence, and only then reads, for each write, whether the
/// mapping ended; it writes only into a mapping it read live, and ends the batch by a release store of the next
/// (even) number after its last byte. The ender sets the ended flag by compare-and-swap, a full fence, and only
/// then reads every engine's batch number, waiting for each odd one to change. With a full fence on both sides,
/// the engine's read of the flag and the ender's read of the number cannot both miss the other's write: either the
/// engine saw the mapping ended and wrote nothing, or the ender saw its batch open (or already past) and returns
/// only after the batch's end, whose release store orders every byte of the batch before it. A batch opened after
/// the ender's read sees the flag. So the engine pays one locked instruction per batch, the ender waits for whole
/// batches in progress (of any mapping, a few microseconds of a poll; an unmap is off the per-packet path once the
/// recycle ring holds what is out). A thread must not unmap inside its own batch (it would wait for itself); the
/// model's batches call nothing that unmaps. (The pool frees a page's memory only after its unmap returned, so a
/// racing write can never reach freed memory.)</item>
/// <item><em>Map, unmap, teardown and bind are totally ordered among themselves as far as they touch the domain.</em>
/// Map and unmap hold a stripe, teardown and bind hold all of them; so a map or unmap sees one domain generation
/// from its check to its return, a map's mapping is in the table before teardown can walk it, and teardown's walk
/// sees every mapping made before it and none made during it (there are none).</item>
/// <item><em>A sync or a device write is judged against one instant at which the domain and the mapping really were
/// in the state it reports.</em> It reads the generation g (odd: a call after unbind), then the mapping's state,
/// then (when it matters) the generation again:
/// <list type="bullet">
/// <item>live mapping, then g again: a write is linearized at its read of the ended flag, where the generation
/// was g (it only grows and read g before and after) and the mapping live; teardown, which increments the
/// generation before it ends any mapping, therefore either comes after that instant and waits for the write's
/// batch (invariant 2), or came before, and then ended the mapping before the flag was read (the write saw it
/// ended) or the second read sees the new generation. A sync needs no second read: a mapping that is live
/// when read was live, under an even generation, at the later of the first read and its own map (a map checks the
/// generation under its stripe).</item>
/// <item>not live (absent, ended, or the range outside it): if the generation changed, a teardown started inside
/// the call, so at some instant the domain was unbound and the call is recorded as after unbind; if it is still
/// g, no teardown ended the mapping (teardown increments it before ending any, and the read of the ended flag
/// acquires that), so an unmap did, or it never existed, and the call is recorded as a DMA to (or sync of) an
/// unmapped address.</item>
/// </list></item>
/// <item><em>Counts are exact.</em> Map numbers are handed out by one atomic increment (the failure injector decides
/// per number). Unmap and sync counts are kept per thread and write counts per engine, each written only by the
/// thread using it, and summed on reading (a retired engine's count is added to a total under the lock its
/// removal takes, which the sum takes too), so the per-packet calls share no counter's cache line; a read while
/// calls run sees some of them.</item>
/// </list>
/// <para>The model still values being a precise witness over being fast; <see cref="NoOpDmaDevice"/> is the baseline
/// for measuring the pool without it. The stress suite <c>IommuModelConcurrencySpecs</c> races every pair of these
/// calls and checks the invariants above.</para>
/// </remarks>
public sealed partial class IommuModel : IDmaDevice
{
    /// <summary>Size of the IOVA slot each mapping gets; also the largest mappable buffer.</summary>
    public const int SlotSize = Netmem.Pool.PagePoolOptions.MaxPageSize;

    private const ulong IovaBase = 0x1_0000_0000UL;
    private const int ChunkShift = 12;
    private const int ChunkSlots = 1 << ChunkShift;
    private const int ChunkMask = ChunkSlots - 1;

    private readonly Lock[] _stripes;
    private readonly int _stripeMask;
    private readonly Lock _directoryLock = new();
    private readonly Lock _violationLock = new();
    private readonly List<IommuViolation> _violations = new();
    private readonly int[] _violationCounts = new int[Enum.GetValues<IommuViolationKind>().Length];
    private readonly ThreadLocal<CallCounts> _callCounts = new(static () => new CallCounts(), trackAllValues: true);
    private readonly ThreadLocal<DeviceWriter> _threadWriters;
    private readonly Lock _writersLock = new();
    private MappingChunk?[] _directory = new MappingChunk?[16];
    private DeviceWriter[] _writers = [];
    private long _retiredWrites;
    private long _domain;
    private long _nextSlot;
    private int _liveCount;
    private long _mapCalls;

    /// <summary>A bound device with no mapping yet.</summary>
    /// <param name="name">The device's name, prefixed to every violation's detail.</param>
    /// <param name="needsSync">Whether the pool must sync mappings (<see cref="IDmaDevice.NeedsSync"/>); false models a coherent device, on which the pool skips syncs.</param>
    public IommuModel(string name, bool needsSync = true)
    {
        Name = name;
        NeedsSync = needsSync;
        int stripes = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, Environment.ProcessorCount * 2));
        _stripes = new Lock[stripes];
        for (int i = 0; i < stripes; i++)
        {
            _stripes[i] = new Lock();
        }

        _stripeMask = stripes - 1;
        _threadWriters = new ThreadLocal<DeviceWriter>(() => new DeviceWriter(this));
    }

    /// <summary>The device's name; every recorded violation's detail starts with it.</summary>
    public string Name { get; }

    /// <summary>Whether the pool syncs this device's mappings; syncs are checked (and counted) either way.</summary>
    public bool NeedsSync { get; }

    /// <summary>
    /// Decides, per map operation number (0, 1, 2, …), whether that map fails. Chaos runs set it to a seeded
    /// decision so the same seed fails the same operations.
    /// </summary>
    public Func<long, bool>? MapFailureInjector { get; set; }

    /// <summary>Extra time every map takes, to model a slow IOMMU (the calling thread waits).</summary>
    public TimeSpan MapLatency { get; set; }

    /// <summary>Whether the device currently has a driver and an IOMMU domain.</summary>
    public bool IsBound => IsBoundGeneration(Volatile.Read(ref _domain));

    /// <summary>Mappings made and not yet unmapped, over every pool of the bind; an unbind drops them all.</summary>
    public int LiveMappingCount => Volatile.Read(ref _liveCount);

    /// <summary>Map calls made, failed ones (injected, or while unbound) included; the number the next map operation gets.</summary>
    public long MapCalls => Interlocked.Read(ref _mapCalls);

    /// <summary>Unmap calls made, including those recorded as violations.</summary>
    public long UnmapCalls => SumCalls(static counts => counts.Unmaps);

    /// <summary>Sync calls made, for CPU and for device together, including those recorded as violations.</summary>
    public long SyncCalls => SumCalls(static counts => counts.Syncs);

    /// <summary>Device writes attempted with <see cref="DmaWrite"/>, refused ones included.</summary>
    public long DmaWrites
    {
        get
        {
            lock (_writersLock)
            {
                long writes = _retiredWrites;
                foreach (DeviceWriter writer in _writers)
                {
                    writes += writer.Writes;
                }

                return writes;
            }
        }
    }

    /// <summary>Violations recorded so far; a clean run ends with 0.</summary>
    public int ViolationCount
    {
        get
        {
            lock (_violationLock)
            {
                return _violations.Count;
            }
        }
    }

    /// <summary>A snapshot of the violations recorded so far, in order.</summary>
    public IReadOnlyList<IommuViolation> Violations
    {
        get
        {
            lock (_violationLock)
            {
                return _violations.ToArray();
            }
        }
    }

    /// <summary>How many violations of <paramref name="kind"/> were recorded.</summary>
    public int CountOf(IommuViolationKind kind)
    {
        lock (_violationLock)
        {
            return _violationCounts[(int)kind];
        }
    }

    /// <summary>
    /// Maps <paramref name="buffer"/> at a fresh IOVA (never reused) and returns it. Fails while unbound (also recorded as
    /// <see cref="IommuViolationKind.CallAfterUnbind"/>) and when <see cref="MapFailureInjector"/> says so.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The buffer is empty or larger than <see cref="SlotSize"/>.</exception>
    /// <exception cref="DmaMapException">The map failed: injected, or the device is unbound.</exception>
    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        if (buffer.Length <= 0 || buffer.Length > SlotSize)
        {
            throw new ArgumentOutOfRangeException(nameof(buffer), buffer.Length, $"A mapping is 1..{SlotSize} bytes.");
        }

        long operation = Interlocked.Increment(ref _mapCalls) - 1;
        if (MapLatency > TimeSpan.Zero)
        {
            Thread.Sleep(MapLatency);
        }

        if (MapFailureInjector?.Invoke(operation) == true)
        {
            throw new DmaMapException($"{Name}: injected map failure on map operation {operation}.");
        }

        lock (StripeOfThisProcessor())
        {
            if (!IsBound)
            {
                Record(IommuViolationKind.CallAfterUnbind, 0, $"map of page {buffer.PageId} while unbound");
                throw new DmaMapException($"{Name}: device is unbound.");
            }

            long slot = Interlocked.Increment(ref _nextSlot) - 1;
            MappingChunk chunk = ChunkForNewSlot(slot);
            Volatile.Write(ref chunk.Slots[slot & ChunkMask], new Mapping(buffer, direction));
            Interlocked.Increment(ref _liveCount);
            return IovaBase + ((ulong)slot * SlotSize);
        }
    }

    /// <summary>
    /// Ends the mapping at <paramref name="dmaAddress"/>. Never throws: an unknown or already unmapped address, or a
    /// call while unbound, is recorded as a violation; so is a length or a direction that differs from the map's (each
    /// its own kind), and the mapping ends all the same, as the kernel's DMA debugging reports such an unmap and frees.
    /// </summary>
    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        _callCounts.Value!.Unmaps++;
        if (EndMapping(dmaAddress, length, direction))
        {
            WaitForWriters();
        }
    }

    /// <summary>Unmap under its stripe: true when it ended the mapping (the caller then waits for writers, invariant 2).</summary>
    private bool EndMapping(ulong dmaAddress, int length, DmaDirection direction)
    {
        lock (StripeOfThisProcessor())
        {
            if (!IsBound)
            {
                Record(IommuViolationKind.CallAfterUnbind, dmaAddress, "unmap while unbound");
                return false;
            }

            if (!TryFindSlot(dmaAddress, out MappingChunk? chunk, out int index)
                || Volatile.Read(ref chunk.Slots[index]) is not { } mapping
                || !mapping.TryEnd())
            {
                Record(ClassifyMissing(dmaAddress), dmaAddress, "unmap");
                return false;
            }

            Volatile.Write(ref chunk.Slots[index], null);
            Interlocked.Decrement(ref _liveCount);
            if (Interlocked.Increment(ref chunk.Ended) == ChunkSlots)
            {
                DropChunk(dmaAddress, chunk);
            }

            if (mapping.Buffer.Length != length)
            {
                Record(IommuViolationKind.UnmapLengthMismatch, dmaAddress,
                    $"unmap length does not match the mapping: mapped {mapping.Buffer.Length} bytes, unmapped {length}");
            }

            if (mapping.Direction != direction)
            {
                Record(IommuViolationKind.UnmapDirectionMismatch, dmaAddress,
                    $"unmap direction does not match the mapping: mapped {InWords(mapping.Direction)}, unmapped {InWords(direction)}");
            }

            return true;
        }
    }

    /// <summary>Checks that the range lies inside a live mapping and records a violation if not; no bytes move (host and device share them here).</summary>
    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        Sync(dmaAddress, offset, length, "sync for device");

    /// <summary>Checks that the range lies inside a live mapping and records a violation if not; no bytes move (host and device share them here).</summary>
    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction) =>
        Sync(dmaAddress, offset, length, "sync for cpu");

    /// <summary>
    /// The device writes <paramref name="data"/> at <paramref name="dmaAddress"/> + <paramref name="offset"/>.
    /// Returns false (and records a violation) if that range is not inside a live mapping. For host memory the bytes
    /// land in the page; for unreadable device memory only the check is made.
    /// </summary>
    public bool DmaWrite(ulong dmaAddress, int offset, ReadOnlySpan<byte> data)
    {
        DeviceWriter writer = _threadWriters.Value!;
        writer.BeginBatch();
        try
        {
            bool landing = writer.TryOpen(dmaAddress, offset, data.Length, out Span<byte> destination);
            data.CopyTo(destination);
            writer.Close(written: true, data.Length);
            return landing;
        }
        finally
        {
            writer.EndBatch();
        }
    }

    /// <summary>Whether <paramref name="dmaAddress"/> is currently mapped.</summary>
    public bool IsMapped(ulong dmaAddress) => Find(dmaAddress) is { IsLive: true };

    /// <summary>
    /// Tears the IOMMU domain down: every mapping still live is a leak and is recorded as a violation, then dropped.
    /// Returns the number of leaked mappings.
    /// </summary>
    public int Unbind() => TearDown(0).Leaked;

    /// <summary>
    /// Tears the IOMMU domain down at an unbind in which pools revoked <paramref name="revokedMappings"/> mappings:
    /// those were left to this teardown on purpose, so they go with the domain; any live mapping beyond them is a
    /// leak and is recorded as a violation. Returns the live mappings found and how many of them were leaks.
    /// </summary>
    public (int StillMapped, int Leaked) TearDown(long revokedMappings)
    {
        EnterAllStripes();
        try
        {
            if (!IsBound)
            {
                return (0, 0);
            }

            // Odd: unbound. Before any mapping is ended (invariant 4), as one full fence.
            Interlocked.Increment(ref _domain);
            MappingChunk?[] directory = _directory;
            var stillMapped = new List<(ulong Iova, Mapping Mapping)>();
            for (int c = 0; c < directory.Length; c++)
            {
                if (directory[c] is not { } chunk)
                {
                    continue;
                }

                for (int i = 0; i < ChunkSlots; i++)
                {
                    if (chunk.Slots[i] is { } mapping && mapping.TryEnd())
                    {
                        stillMapped.Add((IovaOf(((long)c << ChunkShift) + i), mapping));
                    }
                }
            }

            // Invariant 2: no write of a batch open before the mappings ended is still under way when teardown returns.
            WaitForWriters();

            // Every mapping has ended: readers that still hold the old chunks find them ended.
            lock (_directoryLock)
            {
                Volatile.Write(ref _directory, new MappingChunk?[directory.Length]);
            }

            Volatile.Write(ref _liveCount, 0);
            int leaked = (int)Math.Max(0, stillMapped.Count - Math.Max(0, revokedMappings));
            foreach ((ulong iova, Mapping mapping) in stillMapped.Take(leaked))
            {
                Record(IommuViolationKind.MappingLeakedAtUnbind, iova, $"page {mapping.Buffer.PageId} still mapped at unbind");
            }

            return (stillMapped.Count, leaked);
        }
        finally
        {
            ExitAllStripes();
        }
    }

    /// <summary>Gives the device a fresh IOMMU domain (a rebind after <see cref="Unbind"/>).</summary>
    public void Bind()
    {
        EnterAllStripes();
        try
        {
            if (!IsBound)
            {
                Interlocked.Increment(ref _domain);
            }
        }
        finally
        {
            ExitAllStripes();
        }
    }

    private static bool IsBoundGeneration(long generation) => (generation & 1) == 0;

    private static ulong IovaOf(long slot) => IovaBase + ((ulong)slot * SlotSize);

    private static string InWords(DmaDirection direction) => direction switch
    {
        DmaDirection.FromDevice => "for the device to write",
        DmaDirection.Bidirectional => "for the device to read and write",
        _ => $"in direction {(int)direction}",
    };

    private static string WriteDetail(IommuViolationKind refusal, int offset, int length) =>
        refusal == IommuViolationKind.CallAfterUnbind ? "DMA write while unbound" : $"DMA write of {length} bytes at offset {offset}";

    /// <summary>
    /// Judges a device write of <paramref name="length"/> bytes at <paramref name="dmaAddress"/> +
    /// <paramref name="offset"/>, made inside an open batch: null, with the live mapping, when it may land (invariant
    /// 2 keeps it the page's until the batch ends), or why it is refused (invariant 4 for the kind).
    /// </summary>
    private IommuViolationKind? JudgeWrite(ulong dmaAddress, int offset, int length, out Mapping? live)
    {
        live = null;
        long generation = Volatile.Read(ref _domain);
        if (!IsBoundGeneration(generation))
        {
            return IommuViolationKind.CallAfterUnbind;
        }

        Mapping? mapping = Find(dmaAddress);
        bool landing = mapping is not null && mapping.IsLive && offset >= 0 && length >= 0 && (long)offset + length <= mapping.Buffer.Length;

        // Invariant 4: a changed generation means a teardown started during the call (the ended flag's read acquired
        // the teardown's increment, if a teardown ended the mapping).
        if (Volatile.Read(ref _domain) != generation)
        {
            return IommuViolationKind.CallAfterUnbind;
        }

        if (!landing)
        {
            return IommuViolationKind.DmaToUnmappedAddress;
        }

        live = mapping;
        return null;
    }

    private void Register(DeviceWriter writer)
    {
        lock (_writersLock)
        {
            Volatile.Write(ref _writers, [.. _writers, writer]);
        }
    }

    private void Unregister(DeviceWriter writer)
    {
        lock (_writersLock)
        {
            _retiredWrites += writer.Writes;
            Volatile.Write(ref _writers, Array.FindAll(_writers, w => w != writer));
        }
    }

    /// <summary>
    /// Invariant 2, the ender's side: called after ending a mapping (a full fence), it returns once every batch of
    /// writes open at that moment has ended. Batches opened later see the mapping ended.
    /// </summary>
    private void WaitForWriters()
    {
        foreach (DeviceWriter writer in Volatile.Read(ref _writers))
        {
            long batch = writer.Batch;
            if ((batch & 1) == 0)
            {
                continue;
            }

            var spin = default(SpinWait);
            while (writer.Batch == batch)
            {
                spin.SpinOnce();
            }
        }
    }

    private void Sync(ulong dmaAddress, int offset, int length, string what)
    {
        _callCounts.Value!.Syncs++;
        long generation = Volatile.Read(ref _domain);
        if (!IsBoundGeneration(generation))
        {
            Record(IommuViolationKind.CallAfterUnbind, dmaAddress, what + " while unbound");
            return;
        }

        Mapping? mapping = Find(dmaAddress);
        if (mapping is null || !mapping.IsLive || offset < 0 || length < 0 || (long)offset + length > mapping.Buffer.Length)
        {
            // Invariant 4: a changed generation means a teardown started during the call.
            if (Volatile.Read(ref _domain) != generation)
            {
                Record(IommuViolationKind.CallAfterUnbind, dmaAddress, what + " while unbound");
            }
            else
            {
                Record(IommuViolationKind.SyncOfUnmappedAddress, dmaAddress, $"{what} of {length} bytes at offset {offset}");
            }
        }
    }

    /// <summary>The mapping at <paramref name="dmaAddress"/> if its slot still holds one (it may have ended since).</summary>
    private Mapping? Find(ulong dmaAddress) =>
        TryFindSlot(dmaAddress, out MappingChunk? chunk, out int index) ? Volatile.Read(ref chunk.Slots[index]) : null;

    private bool TryFindSlot(ulong dmaAddress, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MappingChunk? chunk, out int index)
    {
        chunk = null;
        index = 0;
        if (dmaAddress < IovaBase || (dmaAddress - IovaBase) % SlotSize != 0)
        {
            return false;
        }

        ulong slot = (dmaAddress - IovaBase) / SlotSize;
        ulong chunkIndex = slot >> ChunkShift;
        MappingChunk?[] directory = Volatile.Read(ref _directory);
        if (chunkIndex >= (ulong)directory.Length)
        {
            return false;
        }

        chunk = Volatile.Read(ref directory[chunkIndex]);
        index = (int)(slot & ChunkMask);
        return chunk is not null;
    }

    private MappingChunk ChunkForNewSlot(long slot)
    {
        long chunkIndex = slot >> ChunkShift;
        MappingChunk?[] directory = Volatile.Read(ref _directory);
        if (chunkIndex < directory.Length && Volatile.Read(ref directory[chunkIndex]) is { } existing)
        {
            return existing;
        }

        lock (_directoryLock)
        {
            directory = _directory;
            if (chunkIndex >= directory.Length)
            {
                var grown = new MappingChunk?[Math.Max(directory.Length * 2, chunkIndex + 1)];
                Array.Copy(directory, grown, directory.Length);
                directory = grown;
                Volatile.Write(ref _directory, grown);
            }

            if (directory[chunkIndex] is not { } chunk)
            {
                chunk = new MappingChunk();
                Volatile.Write(ref directory[chunkIndex], chunk);
            }

            return chunk;
        }
    }

    /// <summary>Drops a chunk all of whose mappings were unmapped (its slots are all empty and none will be filled again).</summary>
    private void DropChunk(ulong dmaAddress, MappingChunk chunk)
    {
        ulong chunkIndex = ((dmaAddress - IovaBase) / SlotSize) >> ChunkShift;
        lock (_directoryLock)
        {
            MappingChunk?[] directory = _directory;
            if (chunkIndex < (ulong)directory.Length && ReferenceEquals(directory[chunkIndex], chunk))
            {
                Volatile.Write(ref directory[chunkIndex], null);
            }
        }
    }

    private Lock StripeOfThisProcessor() => _stripes[Thread.GetCurrentProcessorId() & _stripeMask];

    private void EnterAllStripes()
    {
        foreach (Lock stripe in _stripes)
        {
            stripe.Enter();
        }
    }

    private void ExitAllStripes()
    {
        for (int i = _stripes.Length - 1; i >= 0; i--)
        {
            _stripes[i].Exit();
        }
    }

    private long SumCalls(Func<CallCounts, long> read)
    {
        long sum = 0;
        foreach (CallCounts counts in _callCounts.Values)
        {
            sum += read(counts);
        }

        return sum;
    }

    private IommuViolationKind ClassifyMissing(ulong dmaAddress) =>
        dmaAddress >= IovaBase && (dmaAddress - IovaBase) % SlotSize == 0 && (dmaAddress - IovaBase) / SlotSize < (ulong)Volatile.Read(ref _nextSlot)
            ? IommuViolationKind.DoubleUnmap
            : IommuViolationKind.UnmapOfUnknownAddress;

    private void Record(IommuViolationKind kind, ulong dmaAddress, string detail)
    {
        lock (_violationLock)
        {
            _violations.Add(new IommuViolation(kind, dmaAddress, $"{Name}: {detail}"));
            _violationCounts[(int)kind]++;
        }
    }

    /// <summary>One mapping: what was mapped, and whether it ended.</summary>
    private sealed class Mapping(DmaBuffer buffer, DmaDirection direction)
    {
        // 0 while live, 1 once ended (unmapped, or torn down with the domain); never cleared once set.
        private int _ended;

        public DmaBuffer Buffer { get; } = buffer;

        public DmaDirection Direction { get; } = direction;

        public bool IsLive => Volatile.Read(ref _ended) == 0;

        /// <summary>
        /// Ends the mapping; true for exactly one caller (invariant 1). The compare-and-swap is the full fence the
        /// ender's wait for writers starts after (invariant 2).
        /// </summary>
        public bool TryEnd() => Interlocked.CompareExchange(ref _ended, 1, 0) == 0;
    }

    /// <summary>4096 consecutive IOVA slots of the mapping table, and how many of their mappings were unmapped.</summary>
    private sealed class MappingChunk
    {
        public readonly Mapping?[] Slots = new Mapping?[ChunkSlots];
        public int Ended;
    }

    /// <summary>One thread's calls into the model, written only by that thread (invariant 5).</summary>
    private sealed class CallCounts
    {
        public long Unmaps;
        public long Syncs;
    }
}
