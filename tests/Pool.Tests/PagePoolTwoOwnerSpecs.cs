using Netmem.Pool.Core;
using Netmem.Pool.Memory;
using Netmem.Simulation;
using Xunit;

namespace Netmem.Pool.Tests;

/// <summary>
/// A pool whose allocation side is used by two threads at once (against its contract) may corrupt itself, but never
/// another pool. The way it reached one: a free item's link shares its word with the page id bound to it, so a
/// racing owner can read a page id as the next free item, and a page id is the id of some other pool's item. These
/// specs make the free-item list name another pool's lent item, once by hand and once by racing two owners, and check
/// that the other pool's pages, lendings and page allocator stay exactly as they were. They run in the item-block
/// table's collection, alone: without the refusal the misused pool writes into blocks of whatever pool lends them.
/// </summary>
[Collection(nameof(Core.ItemBlockTableSpecs))]
public sealed class PagePoolTwoOwnerSpecs
{
    [Fact]
    public void A_free_item_list_naming_another_pools_lent_item_is_refused_before_that_item_is_touched()
    {
        using var bystander = new Bystander(pages: 1);
        var misusedProvider = new HostPageProvider(4096, chunkBytes: 256 * 4096);
        var misused = new PagePool(new PagePoolOptions { Device = new IommuModel("misused"), MemoryProvider = misusedProvider });
        var lent = new List<NetmemRef> { misused.Allocate() };

        // The first allocation brought in one batch (64 items from the front of a new block); the next batch starts at
        // the item after it. Give that item the link a racing owner reads there once the other owner bound a page to
        // it: a page id, which here is the bystander's lent item's id.
        ItemBlock block = ItemBlockTable.Get(lent[0].BlockIndex);
        int nextFree = block.FirstItemId + 64;
        block.Slots[ItemBlock.IndexOf(nextFree)].Page = (ulong)bystander.ItemIds[0];

        Exception? refused = Record.Exception(AllocateTwoBatches);

        bystander.AssertUntouched();
        Assert.IsType<InvalidOperationException>(refused);
        Assert.Contains($"names item {bystander.ItemIds[0]}, which is not a free item of this pool", refused.Message);
        Assert.Contains($"it belongs to {bystander.Pool.Name}", refused.Message);
        Assert.Contains("used by two threads at once", refused.Message);
        Assert.Equal(64, lent.Count);
        bystander.AssertUntouched();
        Assert.Equal(lent.Count + 1, misused.Inflight);
        Assert.Equal(misused.Inflight, misusedProvider.OutstandingPages);

        bystander.DestroyThenReturnEveryPage();

        void AllocateTwoBatches()
        {
            for (int i = 0; i < 128; i++)
            {
                lent.Add(misused.Allocate());
            }
        }
    }

    [Fact]
    public void Two_threads_allocating_from_one_pool_at_once_never_touch_another_pools_lent_pages()
    {
        // The misused pool's page ids are the bystander's item ids, so every page id a racing owner reads as a link
        // names one of the bystander's lent items; a ring of 2 makes most returns release their page, so the owners
        // keep bringing pages in (and following links) instead of recycling.
        using var bystander = new Bystander(pages: 1024);
        using var misusedPages = new PageIdsOf(bystander.ItemIds);
        var refusals = 0;
        for (int round = 0; round < 20 && refusals == 0; round++)
        {
            var misused = new PagePool(new PagePoolOptions { MemoryProvider = misusedPages, PoolSize = 2 });
            using var start = new Barrier(2);
            void Owner()
            {
                start.SignalAndWait();
                var held = new List<NetmemRef>(64);
                for (int i = 0; i < 2000; i++)
                {
                    try
                    {
                        while (held.Count < 64)
                        {
                            held.Add(misused.Allocate());
                        }
                    }
                    catch (InvalidOperationException exception) when (exception.Message.Contains("used by two threads at once"))
                    {
                        Interlocked.Increment(ref refusals);
                    }
                    catch (Exception)
                    {
                        // Whatever else the race does to the misused pool itself is not this spec's concern.
                    }

                    foreach (NetmemRef page in held)
                    {
                        try
                        {
                            misused.Return(page);
                        }
                        catch (Exception)
                        {
                        }
                    }

                    held.Clear();
                }
            }

            var owners = new[] { new Thread(Owner), new Thread(Owner) };
            Array.ForEach(owners, owner => owner.Start());
            Array.ForEach(owners, owner => owner.Join());
            bystander.AssertUntouched();
        }

        bystander.DestroyThenReturnEveryPage();
    }

    /// <summary>A pool with every page lent, whose items a misused pool must never write.</summary>
    private sealed class Bystander : IDisposable
    {
        private readonly HostPageProvider _provider = new(4096, chunkBytes: 256 * 4096);
        private readonly IommuModel _iommu = new("bystander");
        private readonly List<NetmemRef> _lent;
        private readonly (long State, ulong Page, ulong DmaAddress, nint HostAddress)[] _records;

        public Bystander(int pages)
        {
            Pool = new PagePool(new PagePoolOptions { Device = _iommu, MemoryProvider = _provider });
            _lent = Enumerable.Range(0, pages).Select(_ => Pool.Allocate()).ToList();
            ItemIds = _lent.Select(page => page.ItemId).ToArray();
            _records = _lent.Select(Record).ToArray();
        }

        public PagePool Pool { get; }

        public int[] ItemIds { get; }

        public void AssertUntouched()
        {
            for (int i = 0; i < _lent.Count; i++)
            {
                Assert.True(_records[i] == Record(_lent[i]), $"{_lent[i]} of the bystander was overwritten: {_records[i]} became {Record(_lent[i])}");
            }
        }

        /// <summary>After destroy every return releases its page to the provider, which refuses a page freed twice.</summary>
        public void DestroyThenReturnEveryPage()
        {
            PagePoolDestroyReport report = Pool.Destroy();
            Assert.Equal(_lent.Count, report.UnmappedByDestroy);
            _lent.ForEach(page => page.ReturnToPool());
            _lent.Clear();
            Assert.Equal(PagePoolState.Released, Pool.State);
            Assert.Equal(0, _provider.OutstandingPages);
            Assert.Equal(0, _iommu.Unbind());
            Assert.Empty(_iommu.Violations);
        }

        public void Dispose()
        {
            if (_lent.Count == 0)
            {
                _provider.Dispose();
            }
        }

        private static (long, ulong, ulong, nint) Record(NetmemRef page)
        {
            ItemBlock block = ItemBlockTable.Get(page.BlockIndex);
            ref ItemSlot slot = ref block.Slots[page.ItemIndex];
            ref PageMetadata metadata = ref block.Pages[page.ItemIndex];
            return (Volatile.Read(ref slot.State), slot.Page, metadata.DmaAddress, metadata.HostAddress);
        }
    }

    /// <summary>Host pages whose ids are the given numbers (here: another pool's item ids), one each.</summary>
    private sealed class PageIdsOf : IMemoryProvider, IDisposable
    {
        private readonly HostPageProvider _inner;
        private readonly int[] _ids;
        private readonly Dictionary<ulong, ulong> _inners;

        public PageIdsOf(int[] ids)
        {
            _ids = ids;
            _inner = new HostPageProvider(4096, chunkBytes: 256 * 4096, maxPages: ids.Length);
            _inners = ids.Select((id, i) => (id, i)).ToDictionary(p => (ulong)p.id, p => (ulong)p.i);
        }

        public int PageSize => _inner.PageSize;

        public bool IsReadable => true;

        public bool TryAllocatePage(out ulong pageId)
        {
            bool allocated = _inner.TryAllocatePage(out ulong inner);
            pageId = allocated ? (ulong)_ids[inner] : 0;
            return allocated;
        }

        public nint GetHostAddress(ulong pageId) => _inner.GetHostAddress(_inners[pageId]);

        public void AddPageReference(ulong pageId) => _inner.AddPageReference(_inners[pageId]);

        public void ReleasePage(ulong pageId) => _inner.ReleasePage(_inners[pageId]);

        // The misused pools keep whatever their race left lent; their memory is the process's to free.
        public void Dispose()
        {
        }
    }
}
