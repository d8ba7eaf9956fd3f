using System.Diagnostics;
using Netmem.Actors.Devices.Guard;
using Xunit;

namespace Netmem.Actors.Tests.Devices.Guard;

public sealed class DeviceCallGuardSpecs
{
    [Fact]
    public void A_call_entered_before_the_revoke_is_counted_until_it_exits_and_every_call_after_it_is_refused_and_counted()
    {
        var guard = new DeviceCallGuard();
        Assert.True(guard.TryEnter(DeviceCallKind.Unmap, 0, 0x1000, out int slot));

        guard.Revoke();

        Assert.True(guard.IsRevoked);
        Assert.Equal(1, guard.InFlight);
        Assert.False(guard.TryEnter(DeviceCallKind.Map, 0, 0, out int refusedSlot));
        Assert.False(guard.TryEnter(DeviceCallKind.SyncForCpu, 1, 0x2000, out _));
        Assert.Equal(-1, refusedSlot);
        Assert.Equal(1, guard.InFlight);
        guard.Exit(slot);
        Assert.Equal(0, guard.InFlight);
        Assert.Equal(2, guard.RefusedAfterRevoke);
    }

    [Fact]
    public void A_second_revoke_changes_nothing()
    {
        var guard = new DeviceCallGuard();
        Assert.True(guard.TryEnter(DeviceCallKind.PostPage, 0, 0, out int slot));

        guard.Revoke();
        guard.Revoke();

        Assert.Equal(1, guard.InFlight);
        guard.Exit(slot);
        Assert.Equal(0, guard.InFlight);
        Assert.True(guard.IsRevoked);
    }

    [Fact]
    public void A_receive_side_closing_after_the_revoke_still_enters_and_is_counted_while_it_runs()
    {
        var guard = new DeviceCallGuard();
        guard.Revoke();

        int slot = guard.EnterAlways(DeviceCallKind.CloseReceive, 2);

        Assert.Equal(1, guard.InFlight);
        Assert.Equal(DeviceCallKind.CloseReceive, guard.OldestCall()!.Kind);
        guard.Exit(slot);
        Assert.Equal(0, guard.InFlight);
        Assert.Equal(0, guard.RefusedAfterRevoke);
    }

    [Fact]
    public void The_oldest_call_is_described_by_its_kind_queue_and_address_and_nothing_once_every_call_left()
    {
        var guard = new DeviceCallGuard();
        Assert.Null(guard.OldestCall());
        Assert.True(guard.TryEnter(DeviceCallKind.SyncForDevice, 3, 0xABC000, out int first));
        AfterTheClockMoves();
        Assert.True(guard.TryEnter(DeviceCallKind.ReapFrames, 1, 0, out int second));

        DeviceCallInFlight oldest = guard.OldestCall()!;

        Assert.Equal((DeviceCallKind.SyncForDevice, 3, 0xABC000UL), (oldest.Kind, oldest.Queue, oldest.Address));
        Assert.StartsWith("SyncForDevice of 0xabc000 on rx3, running for ", oldest.ToString(), StringComparison.Ordinal);
        guard.Exit(first);
        Assert.Equal(DeviceCallKind.ReapFrames, guard.OldestCall()!.Kind);
        guard.Exit(second);
        Assert.Null(guard.OldestCall());
    }

    [Fact]
    public void With_every_record_taken_a_call_is_still_counted_just_not_described()
    {
        var guard = new DeviceCallGuard();
        var slots = new List<int>();
        for (int i = 0; i < 32; i++)
        {
            Assert.True(guard.TryEnter(DeviceCallKind.Map, 0, (ulong)(i + 1) << 12, out int slot));
            slots.Add(slot);
        }

        Assert.True(guard.TryEnter(DeviceCallKind.Unmap, 0, 0xFFFF_F000, out int undescribed));

        Assert.Equal(-1, undescribed);
        Assert.Equal(33, guard.InFlight);
        Assert.Equal(32, slots.Distinct().Count());
        guard.Exit(undescribed);
        slots.ForEach(guard.Exit);
        Assert.Equal(0, guard.InFlight);
        Assert.Null(guard.OldestCall());
    }

    /// <summary>Returns once the clock the guard stamps calls with has moved on, so the next call starts strictly later.</summary>
    private static void AfterTheClockMoves()
    {
        long now = Stopwatch.GetTimestamp();
        SpinWait spinner = default;
        while (Stopwatch.GetTimestamp() == now)
        {
            spinner.SpinOnce();
        }
    }
}
