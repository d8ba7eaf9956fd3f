using Microsoft.Coyote.Specifications;
using Netmem.Pool.Core;
using Netmem.Pool.Memory;
using Netmem.Pool.Misuse;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// The per-thread recycle rings of <c>Core/RecycleRing.cs</c> under systematic interleaving. Their enqueue and drain
/// are volatile accesses only, each a scheduling point under the harness (see <see cref="CoyoteHarness"/>), with no
/// device so that destroy's per-item walk does not dilute them: a returner can be preempted between reading the pool
/// Active and publishing its item, between storing the item and publishing the tail, and around publishing the array
/// that holds its new ring, with the owner's refill and destroy's drains in between. Plain loads and stores are not
/// points, so a store moved after the release store that publishes it is beyond what these checks can see. The last check shows the harness has teeth on this protocol: two threads sharing one ring, which the
/// thread numbers exist to prevent, lose an item, and Coyote must find it.
/// </summary>
[Collection(nameof(CoyoteCollection))]
public sealed class RecycleRingModelChecks
{
    private const int Pages = 6;

    [Fact]
    public void Returners_racing_the_owners_refill_and_destroy_hand_every_page_to_exactly_one_party() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            PagePool pool = new(new PagePoolOptions
            {
                PoolSize = 2,
                MemoryProvider = PrefilledProvider(),
                ReleaseRetryInterval = TimeSpan.FromHours(1),
            });

            // Every page is lent, so the cache is empty: the owner can only allocate what the returners give back.
            NetmemRef[] lent = Enumerable.Range(0, Pages).Select(_ => pool.Allocate()).ToArray();
            var ownerGot = new List<NetmemRef>();
            PagePoolDestroyReport? report = null;

            // The first returner returns three pages into a two-entry ring of its own: the third is refused unless
            // the owner drained in between. Each returner creates its ring during the race.
            Task first = Task.Run(() => Array.ForEach(lent[..3], pool.Return));
            Task second = Task.Run(() => pool.Return(lent[3]));
            Task owner = Task.Run(() =>
            {
                for (int i = 0; i < 2; i++)
                {
                    try
                    {
                        ownerGot.Add(pool.Allocate());
                    }
                    catch (Exception exception) when (exception is PoolDestroyedException or MemoryProviderExhaustedException)
                    {
                    }
                }
            });
            Task destroyer = Task.Run(() => report = pool.Destroy());
            await Task.WhenAll(first, second, owner, destroyer);

            // A page the owner got must have come back first (or be new), and only once.
            HashSet<int> stillHeld = [lent[4].ItemId, lent[5].ItemId];
            Specification.Assert(ownerGot.All(page => !stillHeld.Contains(page.ItemId)), "the owner was given a page still held by its holder.");
            Specification.Assert(ownerGot.Select(page => page.ItemId).Distinct().Count() == ownerGot.Count, "the owner was given one page twice.");

            // Every lending is returned exactly once (a refused return throws), then the retry timer's drain runs.
            Array.ForEach([.. ownerGot, lent[4], lent[5]], pool.Return);
            pool.RetryRelease();

            PagePoolStats stats = pool.GetStats();
            long returns = Pages + ownerGot.Count;
            Specification.Assert(
                stats.RecycleCached + stats.RecycleRing + stats.RecycleRingFull + stats.LateReturns == returns,
                $"{returns} returns but cached {stats.RecycleCached} + ring {stats.RecycleRing} + ring_full {stats.RecycleRingFull} + late {stats.LateReturns}.");
            Specification.Assert(stats.Inflight == 0 && stats.Hold == stats.Release, $"hold {stats.Hold}, release {stats.Release}.");
            Specification.Assert(pool.State == PagePoolState.Released, $"pool is {pool.State}.");
            Specification.Assert(
                report!.ReleasedFromCache + report.ReleasedFromRing + report.UnmappedByDestroy + report.RevokedWithDomain + report.StillInflight == report.InflightAtDestroy,
                $"the report does not partition its inflight: {report}.");
        }, iterations: 2000);

    [Fact]
    public void A_producer_and_the_consumer_racing_on_a_small_ring_pass_every_accepted_item_once_in_order() =>
        CoyoteHarness.AssertNoBugFound(async () =>
        {
            var ring = new ProducerRing(2);
            var accepted = new List<int>();
            var received = new List<int>();
            Task producer = Task.Run(() =>
            {
                for (int item = 1; item <= 5; item++)
                {
                    if (ring.TryEnqueue(item))
                    {
                        accepted.Add(item);
                    }
                }
            });
            Task consumer = Task.Run(() =>
            {
                int[] batch = new int[2];
                for (int drain = 0; drain < 3; drain++)
                {
                    received.AddRange(batch[..ring.DequeueBatch(batch)]);
                }
            });
            await Task.WhenAll(producer, consumer);

            int[] rest = new int[2];
            received.AddRange(rest[..ring.DequeueBatch(rest)]);
            Specification.Assert(received.SequenceEqual(accepted), $"accepted {string.Join(",", accepted)} but received {string.Join(",", received)}.");
            Specification.Assert(accepted.Count >= 2 && ring.Count == 0 && ring.TotalEnqueued == accepted.Count, $"accepted {accepted.Count}, count {ring.Count}, enqueued {ring.TotalEnqueued}.");
        }, iterations: 1000);

    [Fact]
    public void Two_threads_enqueueing_into_one_producer_ring_lose_an_item_and_the_check_finds_it()
    {
        var report = CoyoteHarness.Explore(async () =>
        {
            var ring = new ProducerRing(4);
            await Task.WhenAll(Task.Run(() => ring.TryEnqueue(1)), Task.Run(() => ring.TryEnqueue(2)));

            int[] batch = new int[4];
            int taken = ring.DequeueBatch(batch);
            Specification.Assert(batch[..taken].Order().SequenceEqual([1, 2]), $"took {string.Join(",", batch[..taken])} of 1,2.");
        }, iterations: 200);

        Assert.True(report.NumOfFoundBugs > 0, "Coyote did not find the lost item of two producers sharing one ring.");
    }

    // Every page exists before the race starts, so the provider's lock never sits across a scheduling point.
    private static HostPageProvider PrefilledProvider()
    {
        var provider = new HostPageProvider(chunkBytes: 8 * 4096, maxPages: Pages);
        Assert.True(provider.TryAllocatePage(out ulong page));
        provider.ReleasePage(page);
        return provider;
    }
}
