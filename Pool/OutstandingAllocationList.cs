namespace Netmem.Pool;

/// <summary>
/// The pages lent out at one moment, stored as bare handles (8 bytes each) with their allocation sites only when
/// leak detection captured them; an <see cref="OutstandingAllocation"/> is made only when an entry is read.
/// </summary>
/// <remarks>
/// Destroy lists every page still held, which at unbind can be millions: one record object per page made that
/// list most of destroy's own cost, for a report that is usually only counted or logged.
/// </remarks>
internal sealed class OutstandingAllocationList : IReadOnlyList<OutstandingAllocation>
{
    private NetmemRef[] _handles;
    private string?[]? _sites;
    private int _count;

    public OutstandingAllocationList(int capacityHint, bool withSites)
    {
        _handles = new NetmemRef[Math.Max(capacityHint, 4)];
        _sites = withSites ? new string?[_handles.Length] : null;
    }

    public int Count => _count;

    public OutstandingAllocation this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            return new OutstandingAllocation(_handles[index], _sites?[index]);
        }
    }

    public void Add(NetmemRef netmem, string? site)
    {
        if (_count == _handles.Length)
        {
            Array.Resize(ref _handles, _count * 2);
            if (_sites is not null)
            {
                Array.Resize(ref _sites, _count * 2);
            }
        }

        _handles[_count] = netmem;
        if (_sites is not null)
        {
            _sites[_count] = site;
        }

        _count++;
    }

    public IEnumerator<OutstandingAllocation> GetEnumerator()
    {
        for (int i = 0; i < _count; i++)
        {
            yield return this[i];
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
