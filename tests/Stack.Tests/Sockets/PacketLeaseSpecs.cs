using Netmem.Stack.Sockets;
using Xunit;

namespace Netmem.Stack.Tests.Sockets;

public sealed class PacketLeaseSpecs
{
    [Fact]
    public void A_lease_ends_exactly_once_and_its_number_never_comes_back()
    {
        var cell = new PacketLease();
        long first = cell.CurrentLease;

        Assert.True(cell.TryEnd(first));
        Assert.False(cell.TryEnd(first));

        long second = cell.CurrentLease;
        Assert.NotEqual(first, second);
        Assert.True(cell.IsEnded(first));
        Assert.False(cell.IsEnded(second));
    }

    [Fact]
    public void A_stale_lease_number_can_neither_end_nor_hand_over_the_next_lease()
    {
        var cell = new PacketLease();
        long stale = cell.CurrentLease;
        Assert.True(cell.TryEnd(stale));
        long current = cell.CurrentLease;

        Assert.False(cell.TryEnd(stale));
        Assert.Equal(PacketLease.HandOver.Ended, cell.TryHandOver(stale));

        Assert.False(cell.IsEnded(current));
        Assert.Equal(PacketLease.HandOver.Claimed, cell.TryHandOver(current));
    }

    [Fact]
    public void A_lease_is_handed_over_once_and_ending_it_clears_the_hand_over_for_the_next()
    {
        var cell = new PacketLease();
        long first = cell.CurrentLease;

        Assert.Equal(PacketLease.HandOver.Claimed, cell.TryHandOver(first));
        Assert.Equal(PacketLease.HandOver.AlreadyHandedOver, cell.TryHandOver(first));
        Assert.True(cell.TryEnd(first));
        Assert.Equal(PacketLease.HandOver.Ended, cell.TryHandOver(first));

        Assert.Equal(PacketLease.HandOver.Claimed, cell.TryHandOver(cell.CurrentLease));
    }

    [Fact]
    public void A_lease_its_renter_begins_handed_over_cannot_be_handed_over_again_and_still_ends_once()
    {
        var cell = new PacketLease();
        long lease = cell.BeginHandedOver();

        Assert.Equal(cell.CurrentLease, lease);
        Assert.Equal(PacketLease.HandOver.AlreadyHandedOver, cell.TryHandOver(lease));
        Assert.True(cell.TryEnd(lease));
        Assert.False(cell.TryEnd(lease));
        Assert.Equal(PacketLease.HandOver.Claimed, cell.TryHandOver(cell.CurrentLease));
    }

    [Fact]
    public void Stale_copies_racing_a_renter_that_begins_its_leases_handed_over_neither_act_nor_undo_the_mark()
    {
        const int Leases = 200_000;
        const int StaleRacers = 3;
        var cell = new PacketLease();
        long lastEnded = -1;
        long staleActed = 0;
        long markLost = 0;
        bool done = false;
        Thread[] stale = Enumerable.Range(0, StaleRacers).Select(_ => new Thread(() =>
        {
            while (!Volatile.Read(ref done))
            {
                long ended = Volatile.Read(ref lastEnded);
                if (ended < 0)
                {
                    continue;
                }

                if (cell.TryEnd(ended) || cell.TryHandOver(ended) != PacketLease.HandOver.Ended || !cell.IsEnded(ended))
                {
                    Interlocked.Increment(ref staleActed);
                }
            }
        })).ToArray();
        foreach (Thread racer in stale)
        {
            racer.Start();
        }

        for (int i = 0; i < Leases; i++)
        {
            long lease = cell.BeginHandedOver();
            if (cell.TryHandOver(lease) != PacketLease.HandOver.AlreadyHandedOver || !cell.TryEnd(lease))
            {
                markLost++;
            }

            Volatile.Write(ref lastEnded, lease);
        }

        Volatile.Write(ref done, true);
        foreach (Thread racer in stale)
        {
            racer.Join();
        }

        Assert.Equal((0L, 0L), (staleActed, markLost));
    }

    [Fact]
    public void Racing_ends_and_hand_overs_of_one_lease_let_exactly_one_of_each_through()
    {
        const int Rounds = 5_000;
        const int Racers = 4;
        var cell = new PacketLease();
        long firstLease = cell.CurrentLease;
        int[] ended = new int[Rounds];
        int[] claimed = new int[Rounds];
        using var roundStart = new Barrier(Racers);
        Thread[] racers = Enumerable.Range(0, Racers).Select(racer => new Thread(() =>
        {
            for (int round = 0; round < Rounds; round++)
            {
                // Each round's lease is the one after the previous round's, because that round ended exactly once.
                long lease = firstLease + (2L * round);
                roundStart.SignalAndWait();
                if (racer % 2 == 0 && cell.TryHandOver(lease) == PacketLease.HandOver.Claimed)
                {
                    Interlocked.Increment(ref claimed[round]);
                }

                if (cell.TryEnd(lease))
                {
                    Interlocked.Increment(ref ended[round]);
                }
            }
        })).ToArray();

        Array.ForEach(racers, t => t.Start());
        Array.ForEach(racers, t => t.Join());

        Assert.All(ended, count => Assert.Equal(1, count));
        Assert.All(claimed, count => Assert.InRange(count, 0, 1));
        Assert.Equal(firstLease + (2L * Rounds), cell.CurrentLease);
    }
}
