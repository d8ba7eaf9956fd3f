namespace Netmem.Uring.Tests.Runtime;

/// <summary>
/// The strict oracle in front of the real device: every call the runtime makes into one binding (DMA map, unmap,
/// sync, post, reap, close, teardown) passes through it. It keeps its own map of live addresses, independent of the
/// device's bookkeeping, and records every breach of the runtime's contract with a device in words.
/// </summary>
/// <remarks>
/// <para>What it flags: an address mapped while already live (the device handed it out twice); an unmap or sync of
/// an address that is not live (double unmap, or unknown); any call that starts after <see cref="MarkUnbound"/>
/// (the test saw <c>Unbound</c>), and any call still running at that moment — DESIGN §4: no device call runs or
/// starts after the reply.</para>
/// <para>Why calls in flight are counted rather than timestamped: the test marks unbound after it received the
/// reply, so a call that started before the reply but was still inside the device when the reply left would be
/// missed by a "started after" check alone. A counter incremented before and decremented after every call catches
/// it, whatever the thread.</para>
/// </remarks>
internal sealed class DmaOracle
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, int> _live = new();
    private readonly List<string> _violations = new();
    private long _inCall;
    private long _callCount;
    private volatile bool _unbound;

    public DmaOracle(int generation)
    {
        Generation = generation;
    }

    /// <summary>The bind (1, 2, …) this oracle watches.</summary>
    public int Generation { get; }

    public long Maps { get; private set; }

    public long Unmaps { get; private set; }

    /// <summary>Calls of any kind into the binding and what it handed out.</summary>
    public long Calls => Interlocked.Read(ref _callCount);

    /// <summary>Addresses live right now (mapped, not unmapped).</summary>
    public int LiveCount
    {
        get
        {
            lock (_lock)
            {
                return _live.Count;
            }
        }
    }

    /// <summary>Live addresses when the teardown started: the ones left to the domain.</summary>
    public int LiveAtTeardown { get; private set; } = -1;

    public bool TornDown { get; private set; }

    public bool Unbound => _unbound;

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_lock)
            {
                return _violations.ToArray();
            }
        }
    }

    /// <summary>Brackets one call into the device: flags it if the reply already left.</summary>
    public CallScope Enter(string call)
    {
        Interlocked.Increment(ref _inCall);
        Interlocked.Increment(ref _callCount);
        if (_unbound)
        {
            Flag($"bind {Generation}: {call} was called after Unbound");
        }

        return new CallScope(this);
    }

    public void OnMapped(ulong address)
    {
        lock (_lock)
        {
            Maps++;
            if (!_live.TryAdd(address, 1))
            {
                _violations.Add($"bind {Generation}: address 0x{address:x} mapped while already mapped");
            }
        }
    }

    /// <summary>Records an unmap before it reaches the device (the address may be handed out again right after).</summary>
    public void OnUnmapping(ulong address)
    {
        lock (_lock)
        {
            Unmaps++;
            if (!_live.Remove(address))
            {
                _violations.Add($"bind {Generation}: unmap of address 0x{address:x}, which is not mapped (double or unknown unmap)");
            }
        }
    }

    public void OnSync(ulong address, string direction)
    {
        lock (_lock)
        {
            if (!_live.ContainsKey(address))
            {
                _violations.Add($"bind {Generation}: sync for {direction} of address 0x{address:x}, which is not mapped");
            }
        }
    }

    public void OnTearingDown()
    {
        lock (_lock)
        {
            if (TornDown)
            {
                _violations.Add($"bind {Generation}: torn down twice");
            }

            TornDown = true;
            LiveAtTeardown = _live.Count;
        }
    }

    /// <summary>The test received <c>Unbound</c> for this bind: from now on every call is a violation, and so is one still running.</summary>
    public void MarkUnbound()
    {
        _unbound = true;
        long running = Interlocked.Read(ref _inCall);
        if (running != 0)
        {
            Flag($"bind {Generation}: {running} device call(s) still running when Unbound arrived");
        }

        if (!TornDown)
        {
            Flag($"bind {Generation}: Unbound arrived before the domain was torn down");
        }
    }

    /// <summary>Records a violation found outside the call hooks (tests of the oracle itself use it too).</summary>
    public void Flag(string violation)
    {
        lock (_lock)
        {
            _violations.Add(violation);
        }
    }

    private void Exit() => Interlocked.Decrement(ref _inCall);

    /// <summary>Ends one bracketed call.</summary>
    public readonly struct CallScope(DmaOracle oracle) : IDisposable
    {
        public void Dispose() => oracle.Exit();
    }
}
