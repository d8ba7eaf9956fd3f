using System.Runtime.InteropServices;
using Netmem.Pool.Dma;

namespace Netmem.Simulation;

/// <summary>
/// A strict IOMMU model of one device: it implements <see cref="IDmaDevice"/>, records every mapping, performs the
/// device's DMA writes into host memory, and records every misuse of the DMA API as an <see cref="IommuViolation"/>
/// instead of crashing. Tests and chaos runs use it as their oracle.
/// </summary>
/// <remarks>
/// IOVAs are handed out from a bump allocator, one 1 MiB slot per mapping, and never reused. That makes the
/// classification exact without remembering every past mapping: an address at a slot start below the bump pointer
/// that is not live was mapped before and is already unmapped (a double unmap); anything else is unknown.
/// All state sits under one lock. The model values being a precise witness over being fast; the
/// <see cref="NoOpDmaDevice"/> is the baseline for measuring the pool without it.
/// </remarks>
public sealed class IommuModel : IDmaDevice
{
    /// <summary>Size of the IOVA slot each mapping gets; also the largest mappable buffer.</summary>
    public const int SlotSize = Netmem.Pool.PagePoolOptions.MaxPageSize;

    private const ulong IovaBase = 0x1_0000_0000UL;

    private readonly object _lock = new();
    private readonly Dictionary<ulong, Mapping> _live = new();
    private readonly List<IommuViolation> _violations = new();
    private readonly int[] _violationCounts = new int[Enum.GetValues<IommuViolationKind>().Length];
    private ulong _nextIova = IovaBase;
    private bool _bound = true;
    private long _mapCalls;
    private long _unmapCalls;
    private long _syncCalls;
    private long _dmaWrites;

    /// <summary>A bound device with no mapping yet.</summary>
    /// <param name="name">The device's name, prefixed to every violation's detail.</param>
    /// <param name="needsSync">Whether the pool must sync mappings (<see cref="IDmaDevice.NeedsSync"/>); false models a coherent device, on which the pool skips syncs.</param>
    public IommuModel(string name, bool needsSync = true)
    {
        Name = name;
        NeedsSync = needsSync;
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
    public bool IsBound
    {
        get
        {
            lock (_lock)
            {
                return _bound;
            }
        }
    }

    /// <summary>Mappings made and not yet unmapped, over every pool of the bind; an unbind drops them all.</summary>
    public int LiveMappingCount
    {
        get
        {
            lock (_lock)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>Map calls made, failed ones (injected, or while unbound) included; the number the next map operation gets.</summary>
    public long MapCalls => Interlocked.Read(ref _mapCalls);

    /// <summary>Unmap calls made, including those recorded as violations.</summary>
    public long UnmapCalls => Interlocked.Read(ref _unmapCalls);

    /// <summary>Sync calls made, for CPU and for device together, including those recorded as violations.</summary>
    public long SyncCalls => Interlocked.Read(ref _syncCalls);

    /// <summary>Device writes attempted with <see cref="DmaWrite"/>, refused ones included.</summary>
    public long DmaWrites => Interlocked.Read(ref _dmaWrites);

    /// <summary>Violations recorded so far; a clean run ends with 0.</summary>
    public int ViolationCount
    {
        get
        {
            lock (_lock)
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
            lock (_lock)
            {
                return _violations.ToArray();
            }
        }
    }

    /// <summary>How many violations of <paramref name="kind"/> were recorded.</summary>
    public int CountOf(IommuViolationKind kind)
    {
        lock (_lock)
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

        lock (_lock)
        {
            if (!_bound)
            {
                Record(IommuViolationKind.CallAfterUnbind, 0, $"map of page {buffer.PageId} while unbound");
                throw new DmaMapException($"{Name}: device is unbound.");
            }

            ulong iova = _nextIova;
            _nextIova += SlotSize;
            _live.Add(iova, new Mapping(buffer, direction));
            return iova;
        }
    }

    /// <summary>
    /// Ends the mapping at <paramref name="dmaAddress"/>. Never throws: an unknown or already unmapped address, or a
    /// call while unbound, is recorded as a violation; so is a length or a direction that differs from the map's (each
    /// its own kind), and the mapping ends all the same, as the kernel's DMA debugging reports such an unmap and frees.
    /// </summary>
    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        Interlocked.Increment(ref _unmapCalls);
        lock (_lock)
        {
            if (!_bound)
            {
                Record(IommuViolationKind.CallAfterUnbind, dmaAddress, "unmap while unbound");
                return;
            }

            if (!_live.Remove(dmaAddress, out Mapping mapping))
            {
                Record(ClassifyMissing(dmaAddress), dmaAddress, "unmap");
                return;
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
        Interlocked.Increment(ref _dmaWrites);
        lock (_lock)
        {
            if (!_bound)
            {
                Record(IommuViolationKind.CallAfterUnbind, dmaAddress, "DMA write while unbound");
                return false;
            }

            if (!_live.TryGetValue(dmaAddress, out Mapping mapping) || offset < 0 || offset + data.Length > mapping.Buffer.Length)
            {
                Record(IommuViolationKind.DmaToUnmappedAddress, dmaAddress, $"DMA write of {data.Length} bytes at offset {offset}");
                return false;
            }

            if (mapping.Buffer.HostAddress != 0)
            {
                unsafe
                {
                    data.CopyTo(new Span<byte>((byte*)mapping.Buffer.HostAddress + offset, data.Length));
                }
            }

            return true;
        }
    }

    /// <summary>Whether <paramref name="dmaAddress"/> is currently mapped.</summary>
    public bool IsMapped(ulong dmaAddress)
    {
        lock (_lock)
        {
            return _live.ContainsKey(dmaAddress);
        }
    }

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
        lock (_lock)
        {
            if (!_bound)
            {
                return (0, 0);
            }

            int stillMapped = _live.Count;
            int leaked = (int)Math.Max(0, stillMapped - Math.Max(0, revokedMappings));
            foreach ((ulong iova, Mapping mapping) in _live.Take(leaked))
            {
                Record(IommuViolationKind.MappingLeakedAtUnbind, iova, $"page {mapping.Buffer.PageId} still mapped at unbind");
            }

            _live.Clear();
            _bound = false;
            return (stillMapped, leaked);
        }
    }

    /// <summary>Gives the device a fresh IOMMU domain (a rebind after <see cref="Unbind"/>).</summary>
    public void Bind()
    {
        lock (_lock)
        {
            _bound = true;
        }
    }

    private void Sync(ulong dmaAddress, int offset, int length, string what)
    {
        Interlocked.Increment(ref _syncCalls);
        lock (_lock)
        {
            if (!_bound)
            {
                Record(IommuViolationKind.CallAfterUnbind, dmaAddress, what + " while unbound");
                return;
            }

            if (!_live.TryGetValue(dmaAddress, out Mapping mapping) || offset < 0 || length < 0 || offset + length > mapping.Buffer.Length)
            {
                Record(IommuViolationKind.SyncOfUnmappedAddress, dmaAddress, $"{what} of {length} bytes at offset {offset}");
            }
        }
    }

    private static string InWords(DmaDirection direction) => direction switch
    {
        DmaDirection.FromDevice => "for the device to write",
        DmaDirection.Bidirectional => "for the device to read and write",
        _ => $"in direction {(int)direction}",
    };

    private IommuViolationKind ClassifyMissing(ulong dmaAddress) =>
        dmaAddress >= IovaBase && dmaAddress < _nextIova && dmaAddress % SlotSize == 0
            ? IommuViolationKind.DoubleUnmap
            : IommuViolationKind.UnmapOfUnknownAddress;

    private void Record(IommuViolationKind kind, ulong dmaAddress, string detail)
    {
        _violations.Add(new IommuViolation(kind, dmaAddress, $"{Name}: {detail}"));
        _violationCounts[(int)kind]++;
    }

    [StructLayout(LayoutKind.Auto)]
    private readonly record struct Mapping(DmaBuffer Buffer, DmaDirection Direction);
}
