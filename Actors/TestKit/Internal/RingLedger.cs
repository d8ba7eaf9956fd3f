using Netmem.Pool;

namespace Netmem.TestKit.Internal;

/// <summary>
/// The pages the device holds right now: posted on an RX ring and not yet reaped. They are lent out of their pool
/// but belong to the device, so the leak and accounting assertions leave them out.
/// </summary>
internal sealed class RingLedger
{
    private readonly HashSet<NetmemRef> _posted = [];
    private readonly Lock _lock = new();

    public void Posted(NetmemRef page)
    {
        lock (_lock)
        {
            _posted.Add(page);
        }
    }

    public void Reaped(NetmemRef page)
    {
        lock (_lock)
        {
            _posted.Remove(page);
        }
    }

    public void Closed(IEnumerable<NetmemRef> pages)
    {
        lock (_lock)
        {
            _posted.ExceptWith(pages);
        }
    }

    public bool IsOnRing(NetmemRef page)
    {
        lock (_lock)
        {
            return _posted.Contains(page);
        }
    }
}
