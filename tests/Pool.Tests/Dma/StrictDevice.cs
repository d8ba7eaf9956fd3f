using System.Collections.Concurrent;
using Netmem.Pool.Dma;
using Netmem.Pool.Memory;

namespace Netmem.Pool.Tests.Dma;

/// <summary>
/// A strict, deliberately slow device oracle for destroy races. Beyond what the IOMMU model flags, it knows which
/// calls are running at each instant and which page memory was freed, so it flags: any call after
/// <see cref="Unbind"/> and any call still running at it; a double unmap or a call on an unmapped address; an unmap
/// while another call on the same mapping runs; page memory freed while a call on its mapping runs, or while still
/// mapped before the domain is torn down (<see cref="Unbind"/>): a mapping left to the domain after a revocation is
/// still live until then, so its page's memory must wait for it); and any call on a mapping whose page memory was
/// already freed. It also counts calls that start after a revocation, and can park calls so a
/// spec can act while one is inside the device.
/// </summary>
internal sealed class StrictDevice : IDmaDevice
{
    private readonly ConcurrentDictionary<ulong, Mapping> _byAddress = new();
    private readonly ConcurrentDictionary<ulong, Mapping> _liveByPage = new();
    private readonly ConcurrentQueue<string> _violations = new();
    private long _nextAddress = 0x10_0000;
    private int _callsInFlight;
    private int _unmapCalls;
    private int _mapCalls;
    private int _calls;
    private long _callsStartedAfterRevoke;
    private volatile bool _unbound;
    private volatile bool _revoked;
    private long _clock;
    private long _tornDownAt = long.MaxValue;

    public StrictDevice(bool needsSync = true) => NeedsSync = needsSync;

    public string Name => "strict-device";

    public bool NeedsSync { get; }

    /// <summary>SpinWait iterations inside each unmap and each sync: widens the windows a race needs.</summary>
    public int UnmapSpin { get; init; }

    public int SyncSpin { get; init; }

    /// <summary>When set, unmaps (or CPU syncs) wait on it inside the device until it is set.</summary>
    public ManualResetEventSlim? ParkUnmaps { get; set; }

    public ManualResetEventSlim? ParkCpuSyncs { get; set; }

    /// <summary>Unmaps, syncs for the device and syncs for the CPU throw when these say so (by the call's number).</summary>
    public Func<int, bool>? FailUnmap { get; init; }

    public Func<int, bool>? FailSyncForDevice { get; init; }

    public Func<int, bool>? FailSyncForCpu { get; init; }

    public int ParkedCalls;

    public IReadOnlyCollection<string> Violations => _violations;

    public int CallsInFlight => Volatile.Read(ref _callsInFlight);

    public int MapCalls => Volatile.Read(ref _mapCalls);

    public int UnmapCalls => Volatile.Read(ref _unmapCalls);

    public long CallsStartedAfterRevoke => Interlocked.Read(ref _callsStartedAfterRevoke);

    /// <summary>Mappings the domain still holds: never unmapped, whether or not their page memory was freed since.</summary>
    public int LiveMappings => _byAddress.Values.Count(m => m.State != Mapping.Unmapped);

    public bool IsMapped(ulong dmaAddress) => _byAddress.TryGetValue(dmaAddress, out Mapping? m) && m.State == Mapping.Live;

    /// <summary>Access was revoked: calls starting from now are counted.</summary>
    public void NoteRevoked() => _revoked = true;

    /// <summary>
    /// The domain goes: every later call is a violation, and so is a call still running now; mappings still live
    /// (left to the domain) end here, so their pages' memory may be freed from now on. Returns the mappings left.
    /// </summary>
    public int Unbind()
    {
        _unbound = true;
        int running = Volatile.Read(ref _callsInFlight);
        if (running != 0)
        {
            _violations.Enqueue($"{running} device call(s) still running when the device was unbound");
        }

        LeftToDomainAtTeardown = _byAddress.Values.Where(m => m.State == Mapping.Live).Select(m => m.PageId).ToHashSet();
        Interlocked.Exchange(ref _tornDownAt, Interlocked.Increment(ref _clock));
        return LeftToDomainAtTeardown.Count;
    }

    /// <summary>The pages whose mappings were still live when <see cref="Unbind"/> tore the domain down.</summary>
    public IReadOnlySet<ulong> LeftToDomainAtTeardown { get; private set; } = new HashSet<ulong>();

    /// <summary>When the domain was torn down on this device's clock (<see cref="Tick"/>), or <see cref="long.MaxValue"/> before.</summary>
    public long TornDownAt => Interlocked.Read(ref _tornDownAt);

    /// <summary>The device's clock: one step per call, so events recorded elsewhere can be ordered against the teardown.</summary>
    public long Tick() => Interlocked.Increment(ref _clock);

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        Begin("map");
        try
        {
            Interlocked.Increment(ref _mapCalls);
            ulong address = (ulong)Interlocked.Add(ref _nextAddress, 0x1000);
            var mapping = new Mapping(buffer.PageId);
            _byAddress[address] = mapping;
            if (!_liveByPage.TryAdd(buffer.PageId, mapping))
            {
                _violations.Enqueue($"page {buffer.PageId} mapped while it already had a live mapping");
            }

            return address;
        }
        finally
        {
            End();
        }
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        Mapping? mapping = BeginOn("unmap", dmaAddress, out int call);
        try
        {
            if (mapping is not null && Volatile.Read(ref mapping.Running) > 1)
            {
                _violations.Enqueue($"unmap of {dmaAddress:x} while another call on the same mapping was running");
            }

            Interlocked.Increment(ref _unmapCalls);
            Park(ParkUnmaps);
            Thread.SpinWait(UnmapSpin);
            if (mapping is not null)
            {
                if (Interlocked.CompareExchange(ref mapping.State, Mapping.Unmapped, Mapping.Live) != Mapping.Live)
                {
                    _violations.Enqueue($"unmap of {dmaAddress:x}, which was no longer live (double unmap or freed)");
                }

                _liveByPage.TryRemove(new KeyValuePair<ulong, Mapping>(mapping.PageId, mapping));
            }

            if (FailUnmap?.Invoke(call) == true)
            {
                throw new InvalidOperationException("the device failed to unmap");
            }
        }
        finally
        {
            EndOn(mapping);
        }
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        Mapping? mapping = BeginOn("sync for device", dmaAddress, out int call);
        try
        {
            Thread.SpinWait(SyncSpin);
            if (FailSyncForDevice?.Invoke(call) == true)
            {
                throw new InvalidOperationException("the device failed to sync for the device");
            }
        }
        finally
        {
            EndOn(mapping);
        }
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        Mapping? mapping = BeginOn("sync for the CPU", dmaAddress, out int call);
        try
        {
            Park(ParkCpuSyncs);
            Thread.SpinWait(SyncSpin);
            if (FailSyncForCpu?.Invoke(call) == true)
            {
                throw new InvalidOperationException("the device failed to sync for the CPU");
            }
        }
        finally
        {
            EndOn(mapping);
        }
    }

    /// <summary>Called by <see cref="StrictProvider"/> when a page's memory is freed.</summary>
    public void OnPageFreed(ulong pageId)
    {
        if (!_liveByPage.TryRemove(pageId, out Mapping? mapping))
        {
            return;
        }

        if (Volatile.Read(ref mapping.Running) != 0)
        {
            _violations.Enqueue($"page {pageId} freed while a device call on its mapping was running");
        }

        if (!_unbound && Volatile.Read(ref mapping.State) == Mapping.Live)
        {
            _violations.Enqueue($"page {pageId} freed while still mapped, before the domain teardown");
        }

        Interlocked.CompareExchange(ref mapping.State, Mapping.Freed, Mapping.Live);
    }

    private void Begin(string what)
    {
        Interlocked.Increment(ref _callsInFlight);
        if (_unbound)
        {
            _violations.Enqueue($"{what} after the device was unbound");
        }

        if (_revoked)
        {
            Interlocked.Increment(ref _callsStartedAfterRevoke);
        }
    }

    private Mapping? BeginOn(string what, ulong dmaAddress, out int call)
    {
        Begin(what);
        call = Interlocked.Increment(ref _calls);
        if (!_byAddress.TryGetValue(dmaAddress, out Mapping? mapping))
        {
            _violations.Enqueue($"{what} of unknown address {dmaAddress:x}");
            return null;
        }

        Interlocked.Increment(ref mapping.Running);
        int state = Volatile.Read(ref mapping.State);
        if (state != Mapping.Live)
        {
            _violations.Enqueue($"{what} of {dmaAddress:x}, whose mapping was {(state == Mapping.Freed ? "left behind by freed page memory" : "already unmapped")}");
        }

        return mapping;
    }

    private void EndOn(Mapping? mapping)
    {
        if (mapping is not null)
        {
            Interlocked.Decrement(ref mapping.Running);
        }

        End();
    }

    private void End() => Interlocked.Decrement(ref _callsInFlight);

    private void Park(ManualResetEventSlim? parking)
    {
        if (parking is null)
        {
            return;
        }

        Interlocked.Increment(ref ParkedCalls);
        if (!parking.Wait(TimeSpan.FromSeconds(20)))
        {
            _violations.Enqueue("a parked device call was never released");
        }
    }

    private sealed class Mapping(ulong pageId)
    {
        public const int Live = 0;
        public const int Unmapped = 1;
        public const int Freed = 2;

        public readonly ulong PageId = pageId;
        public int State;
        public int Running;
    }
}

/// <summary>A host page provider that tells the <see cref="StrictDevice"/> when a page's memory is really freed.</summary>
internal sealed class StrictProvider(HostPageProvider inner, StrictDevice device) : IMemoryProvider
{
    private readonly ConcurrentDictionary<ulong, int> _references = new();

    public int PageSize => inner.PageSize;

    public bool IsReadable => true;

    public long OutstandingPages => inner.OutstandingPages;

    public bool TryAllocatePage(out ulong pageId)
    {
        if (!inner.TryAllocatePage(out pageId))
        {
            return false;
        }

        _references[pageId] = 1;
        return true;
    }

    public nint GetHostAddress(ulong pageId) => inner.GetHostAddress(pageId);

    public void AddPageReference(ulong pageId)
    {
        _references.AddOrUpdate(pageId, 1, (_, count) => count + 1);
        inner.AddPageReference(pageId);
    }

    public void ReleasePage(ulong pageId)
    {
        if (_references.AddOrUpdate(pageId, 0, (_, count) => count - 1) == 0)
        {
            device.OnPageFreed(pageId);
        }

        inner.ReleasePage(pageId);
    }
}
