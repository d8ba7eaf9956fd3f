using Netmem.Pool.Dma;
using Netmem.Simulation;

namespace Netmem.Chaos;

/// <summary>
/// The strict model's bookkeeping in front of a real device's DMA API (one RX queue's): every map, unmap and sync is
/// passed on to the real device and mirrored into a shadow <see cref="IommuModel"/>, so a run on the real device
/// counts double unmaps, unmaps of unknown addresses, syncs of unmapped pages, calls after unbind and mappings left at
/// teardown exactly as the simulated device's model does.
/// </summary>
/// <remarks>
/// How the mirror works: each real address that maps gets a shadow mapping of its own (the model never reuses its
/// addresses), remembered as live; an unmap of a live address unmaps its shadow and retires it. An unmap of a retired
/// address is replayed on its old shadow address, which the model classifies as a double unmap; an address never
/// mapped is replayed on an address the model never handed out (unknown); a sync of an address not live likewise.
/// Once the device is torn down the model is unbound, so it records every later call as a call after unbind. Real
/// addresses may be reused by the device (a slot of its table), so a new map takes the address out of the retired
/// set. The queues of one device each have their own table, hence one bookkeeping per queue over the shared model.
/// </remarks>
internal sealed class StrictDmaBookkeeping : IDmaDevice
{
    /// <summary>An address the model never hands out (its bump allocator never gets that far).</summary>
    public const ulong NeverMapped = ulong.MaxValue & ~((ulong)IommuModel.SlotSize - 1);

    private readonly IDmaDevice _inner;
    private readonly IommuModel _shadow;
    private readonly Dictionary<ulong, ulong> _live = new();
    private readonly Dictionary<ulong, ulong> _retired = new();

    public StrictDmaBookkeeping(IDmaDevice inner, IommuModel shadow)
    {
        _inner = inner;
        _shadow = shadow;
    }

    public string Name => _inner.Name;

    public bool NeedsSync => _inner.NeedsSync;

    /// <summary>Whether <paramref name="dmaAddress"/> (a real address) is mapped now, by the bookkeeping.</summary>
    public bool IsLive(ulong dmaAddress)
    {
        lock (_live)
        {
            return _live.ContainsKey(dmaAddress);
        }
    }

    public ulong Map(DmaBuffer buffer, DmaDirection direction)
    {
        // The model first: it refuses (and records) a map after unbind, as the real device must.
        ulong shadow = _shadow.Map(buffer, direction);
        ulong real;
        try
        {
            real = _inner.Map(buffer, direction);
        }
        catch
        {
            _shadow.Unmap(shadow, buffer.Length, direction);
            throw;
        }

        lock (_live)
        {
            _retired.Remove(real);
            _live[real] = shadow;
        }

        return real;
    }

    public void Unmap(ulong dmaAddress, int length, DmaDirection direction)
    {
        ulong shadow;
        lock (_live)
        {
            if (_live.Remove(dmaAddress, out shadow))
            {
                _retired[dmaAddress] = shadow;
            }
            else if (!_retired.TryGetValue(dmaAddress, out shadow))
            {
                shadow = NeverMapped;
            }
        }

        _shadow.Unmap(shadow, length, direction);
        _inner.Unmap(dmaAddress, length, direction);
    }

    public void SyncForDevice(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        _shadow.SyncForDevice(ShadowOf(dmaAddress), offset, length, direction);
        _inner.SyncForDevice(dmaAddress, offset, length, direction);
    }

    public void SyncForCpu(ulong dmaAddress, int offset, int length, DmaDirection direction)
    {
        _shadow.SyncForCpu(ShadowOf(dmaAddress), offset, length, direction);
        _inner.SyncForCpu(dmaAddress, offset, length, direction);
    }

    private ulong ShadowOf(ulong dmaAddress)
    {
        lock (_live)
        {
            return _live.TryGetValue(dmaAddress, out ulong shadow) ? shadow : NeverMapped;
        }
    }
}
