using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

public sealed class ReleasedItemListSpecs
{
    [Fact]
    public void An_empty_list_gives_nothing()
    {
        Assert.Equal(ReleasedItemList.Empty, new ReleasedItemList().TakeAll());
    }

    [Fact]
    public void Take_all_gets_the_whole_chain_linked_through_the_items_and_empties_the_list()
    {
        var list = new ReleasedItemList();
        var slots = new ItemSlot[8];
        foreach (int item in new[] { 2, 7, 4 })
        {
            list.Push(item, ref slots[item]);
        }

        Assert.Equal(new[] { 4, 7, 2 }, Walk(list.TakeAll(), slots));
        Assert.Equal(ReleasedItemList.Empty, list.TakeAll());
    }

    [Fact]
    public void Concurrent_pushes_and_take_alls_lose_and_duplicate_nothing()
    {
        const int Pushers = 4;
        const int ItemsEach = 50_000;
        var list = new ReleasedItemList();
        var slots = new ItemSlot[Pushers * ItemsEach];
        int[] taken = new int[slots.Length];
        int pushing = Pushers;

        Thread[] pushers = Enumerable.Range(0, Pushers).Select(p => new Thread(() =>
        {
            for (int i = 0; i < ItemsEach; i++)
            {
                int item = (p * ItemsEach) + i;
                list.Push(item, ref slots[item]);
            }

            Interlocked.Decrement(ref pushing);
        })).ToArray();
        foreach (Thread pusher in pushers)
        {
            pusher.Start();
        }

        int chains = 0;
        while (true)
        {
            bool finished = Volatile.Read(ref pushing) == 0;
            int head = list.TakeAll();
            if (head != ReleasedItemList.Empty)
            {
                chains++;
                foreach (int item in Walk(head, slots))
                {
                    taken[item]++;
                }
            }
            else if (finished)
            {
                break;
            }
        }

        foreach (Thread pusher in pushers)
        {
            pusher.Join();
        }

        Assert.All(taken, count => Assert.Equal(1, count));
        Assert.True(chains >= 1);
    }

    private static List<int> Walk(int head, ItemSlot[] slots)
    {
        var items = new List<int>();
        for (int item = head; item != ReleasedItemList.Empty; item = (int)(long)slots[item].Page)
        {
            items.Add(item);
            Assert.True(items.Count <= slots.Length, "the chain has a cycle");
        }

        return items;
    }
}
