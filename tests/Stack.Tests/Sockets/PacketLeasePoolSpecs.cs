using System.Collections.Concurrent;
using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

[Collection(AllocationMeasuringCollection.Name)]
public sealed class PacketLeasePoolSpecs
{
    [Fact]
    public async Task Cells_rented_and_returned_on_many_threads_are_never_held_twice_at_once()
    {
        const int Renters = 4;
        const int Returners = 4;
        const int PerRenter = 40_000;
        var holders = new ConcurrentDictionary<PacketLease, long>(ReferenceEqualityComparer.Instance);
        var handOff = new BlockingCollection<(PacketLease Cell, long Lease)>(boundedCapacity: 4_096);
        long doubleRents = 0;
        long failedEnds = 0;

        bool Take(PacketLease cell, long lease)
        {
            if (!holders.TryAdd(cell, lease))
            {
                Interlocked.Increment(ref doubleRents);
                return false;
            }

            return true;
        }

        void Give(PacketLease cell, long lease)
        {
            holders.TryRemove(cell, out _);
            if (!cell.TryEnd(lease))
            {
                Interlocked.Increment(ref failedEnds);
            }

            PacketLeasePool.Return(cell);
        }

        Task[] renters = Enumerable.Range(0, Renters).Select(r => Task.Factory.StartNew(
            () =>
            {
                var own = new Stack<(PacketLease, long)>();
                for (int i = 0; i < PerRenter; i++)
                {
                    PacketLease cell = PacketLeasePool.Rent();
                    long lease = cell.CurrentLease;
                    if (!Take(cell, lease))
                    {
                        continue;
                    }

                    // Some cells go back on this thread (in bursts, so its magazine fills and empties), the rest to
                    // the returners.
                    if ((i + r) % 3 == 0)
                    {
                        own.Push((cell, lease));
                        if (own.Count == 100)
                        {
                            while (own.TryPop(out (PacketLease Cell, long Lease) held))
                            {
                                Give(held.Cell, held.Lease);
                            }
                        }
                    }
                    else
                    {
                        handOff.Add((cell, lease));
                    }
                }

                while (own.TryPop(out (PacketLease Cell, long Lease) rest))
                {
                    Give(rest.Cell, rest.Lease);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        Task[] returners = Enumerable.Range(0, Returners).Select(_ => Task.Factory.StartNew(
            () =>
            {
                foreach ((PacketLease cell, long lease) in handOff.GetConsumingEnumerable())
                {
                    Give(cell, lease);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        await Task.WhenAll(renters);
        handOff.CompleteAdding();
        await Task.WhenAll(returners);

        Assert.Equal((0L, 0L), (doubleRents, failedEnds));
        Assert.Empty(holders);
    }

    [Fact]
    public void Cells_returned_on_one_thread_are_rented_on_another_a_magazine_at_a_time_without_allocating()
    {
        var returned = new HashSet<PacketLease>(ReferenceEqualityComparer.Instance);
        RunOnNewThread(() =>
        {
            var cells = new PacketLease[PacketLeasePool.MagazineSize + 1];
            for (int i = 0; i < cells.Length; i++)
            {
                cells[i] = new PacketLease();
                long lease = cells[i].CurrentLease;
                Assert.True(cells[i].TryEnd(lease));
            }

            // The first magazine fills; the last cell sends it to the depot and starts the thread's next one.
            foreach (PacketLease cell in cells)
            {
                PacketLeasePool.Return(cell);
            }

            returned.UnionWith(cells[..PacketLeasePool.MagazineSize]);
        });

        var rented = new HashSet<PacketLease>(ReferenceEqualityComparer.Instance);
        long allocated = -1;
        RunOnNewThread(() =>
        {
            // The first rent takes the magazine from the depot (and allocates the thread's static storage and its
            // magazine holder, once per thread); the rest come out of that magazine.
            var cells = new PacketLease[PacketLeasePool.MagazineSize];
            cells[0] = PacketLeasePool.Rent();
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 1; i < cells.Length; i++)
            {
                cells[i] = PacketLeasePool.Rent();
            }

            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            rented.UnionWith(cells);
        });

        Assert.Equal(0, allocated);
        Assert.True(returned.SetEquals(rented), "the renting thread should get the magazine the returning thread filled");
    }

    [Fact]
    public void The_depot_keeps_at_most_its_bound_of_cells_however_many_come_back()
    {
        RunOnNewThread(() =>
        {
            for (int i = 0; i < 2 * PacketLeasePool.MaxRetained + PacketLeasePool.MagazineSize; i++)
            {
                var cell = new PacketLease();
                Assert.True(cell.TryEnd(cell.CurrentLease));
                PacketLeasePool.Return(cell);
            }
        });

        Assert.Equal(PacketLeasePool.MaxRetained / PacketLeasePool.MagazineSize, PacketLeasePool.FullMagazinesInDepot);
    }

    private static void RunOnNewThread(Action action)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new Xunit.Sdk.XunitException($"The thread failed: {failure}");
        }
    }
}
