using System.Net;
using System.Net.Sockets;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Pool.Misuse;
using Netmem.Stack.Rx;
using Netmem.TestSupport;
using Netmem.Uring.Interop;
using Netmem.Uring.Ring;
using Netmem.Uring.Traffic;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>
/// The receive side on its failure paths, against the real kernel: misuse by the driver, datagrams that do not fit
/// a page, a kernel call failed through the syscall seam, two closers at once.
/// </summary>
public sealed class ReceiveFailureSpecs
{
    private static UringSource Loopback => UringSource.Udp(new IPEndPoint(IPAddress.Loopback, 0));

    private static UdpTrafficOptions Traffic(UringBinding binding, long count, int payload = 200) => new()
    {
        Target = new IPEndPoint(IPAddress.Loopback, binding.BoundPort),
        Count = count,
        PayloadBytes = payload,
        Flows = 2,
        MaxDuration = TimeSpan.FromSeconds(10),
    };

    private static UringRxQueue Rx(UringTestBed bed) => (UringRxQueue)bed.Rx[0];

    /// <summary>Reaps queue 0 until <paramref name="count"/> frames are in, returning each page; returns the frames' lengths.</summary>
    private static List<int> ReapFrames(UringTestBed bed, int count, TimeSpan timeout)
    {
        var lengths = new List<int>();
        bed.ReapUntil(0, () => lengths.Count >= count, frame =>
        {
            lengths.Add(frame.Length);
            frame.Netmem.ReturnToPool();
        }, timeout, repost: false);
        return lengths;
    }

    /// <summary>
    /// Cancels every receive still live on <paramref name="ring"/> and returns how many the kernel found (the
    /// receive side must have left none).
    /// </summary>
    private static int? CancelEveryReceive(IoUringRing ring)
    {
        const ulong probe = 77;
        lock (ring.Gate)
        {
            Assert.Equal(1, ring.Submit(new IoUringSqe { Opcode = IoUringAbi.OpAsyncCancel, Fd = -1, Addr = UringQueue.ReceiveUserData, OpFlags = IoUringAbi.AsyncCancelAll, UserData = probe }));
        }

        int? cancelled = null;
        long deadline = Environment.TickCount64 + 10_000;
        while (cancelled is null && Environment.TickCount64 < deadline)
        {
            lock (ring.Gate)
            {
                uint seen = 0;
                while (ring.TryPeek(seen, out IoUringCqe cqe))
                {
                    seen++;
                    if (cqe.UserData == probe)
                    {
                        cancelled = cqe.Res;
                    }
                }

                ring.Consume(seen);
            }

            if (cancelled is null)
            {
                ring.WaitForCompletion(TimeSpan.FromMilliseconds(50));
            }
        }

        return cancelled;
    }

    [LockedMemoryFact]
    public void A_page_already_posted_is_refused_in_words_and_the_queue_keeps_receiving()
    {
        using var bed = new UringTestBed(Loopback);
        NetmemRef page = bed.Pools[0].Allocate();
        Assert.True(bed.Rx[0].TryPost(page));

        var refusal = Assert.Throws<InvalidOperationException>(() => bed.Rx[0].TryPost(page));
        Assert.Contains("already posted", refusal.Message);
        Assert.Equal(1, bed.Rx[0].Posted);

        Assert.Equal(31, bed.Post(0, 31));
        new UdpTrafficGenerator(Traffic(bed.Binding, 10)).Run();
        List<int> lengths = ReapFrames(bed, 10, TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Repeat(200, 10), lengths);

        // Every page the queue still holds comes back once: 32 posted, 10 reaped.
        Assert.Equal(22, bed.CloseQueues());
        var report = bed.TearDown();
        Assert.Equal(1, report.Violations);
        Assert.Equal(0, bed.Pools[0].Inflight);
    }

    [LockedMemoryFact]
    public void A_datagram_longer_than_a_page_is_dropped_and_counted_and_the_next_arrives_whole()
    {
        using var bed = new UringTestBed(Loopback);
        Assert.Equal(8, bed.Post(0, 8));
        using (var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            var target = new IPEndPoint(IPAddress.Loopback, bed.Binding.BoundPort);
            sender.SendTo(new byte[6000], target);
            byte[] small = new byte[200];
            small.AsSpan().Fill(0x5A);
            sender.SendTo(small, target);
        }

        var frames = new List<byte[]>();
        bed.ReapUntil(0, () => frames.Count >= 1, frame =>
        {
            frames.Add(frame.Netmem.GetSpan().Slice(frame.Offset, frame.Length).ToArray());
            frame.Netmem.ReturnToPool();
        }, TimeSpan.FromSeconds(10), repost: false);

        byte[] first = Assert.Single(frames);
        Assert.Equal(200, first.Length);
        Assert.True(first.AsSpan().IndexOfAnyExcept((byte)0x5A) < 0, "the 200-byte datagram arrived changed");
        UringCounters counters = bed.Binding.GetCounters();
        Assert.Equal(1, counters.DatagramsTooLong);
        Assert.Equal(1, counters.FramesReceived);

        // Both pages came back: the one the long datagram was cut into went straight back to the pool.
        Assert.Equal(6, bed.CloseQueues());
        Assert.Equal(0, bed.TearDown().Violations);
        Assert.Equal(0, bed.Pools[0].Inflight);
    }

    [LockedMemoryFact]
    public void A_reap_whose_page_return_throws_has_consumed_that_completion_and_the_next_reap_delivers_the_next_frame()
    {
        using var bed = new UringTestBed(Loopback);
        NetmemRef page = bed.Pools[0].Allocate();
        Assert.True(bed.Rx[0].TryPost(page));

        // The driver's misuse: it returns a page it posted. The kernel then writes a datagram too long for the page
        // into it, and the queue's own return of that page (a cut datagram is dropped) is refused by the pool.
        bed.Pools[0].Return(page);
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var target = new IPEndPoint(IPAddress.Loopback, bed.Binding.BoundPort);
        sender.SendTo(new byte[6000], target);
        Assert.True(SpinWait.SpinUntil(() => Rx(bed).CompletionsWaiting >= 1, TimeSpan.FromSeconds(10)), "the kernel did not complete the datagram");
        Assert.ThrowsAny<NetmemMisuseException>(() => bed.Rx[0].Reap(new RxFrame[8]));

        // The completion is gone with the throw: the next page posted under the same buffer id is not mistaken for it.
        Assert.Equal(1, bed.Post(0, 1));
        byte[] payload = new byte[200];
        sender.SendTo(payload, target);
        List<int> lengths = ReapFrames(bed, 1, TimeSpan.FromSeconds(10));
        Assert.Equal([200], lengths);
        Assert.Equal(0, bed.CloseQueues());
        bed.TearDown();
        Assert.Equal(0, bed.Binding.GetCounters().KernelErrors);
        Assert.Equal(1, bed.Binding.GetCounters().DatagramsTooLong);
    }

    [LockedMemoryFact]
    public void A_receive_whose_arm_failed_before_the_kernel_took_it_is_armed_again_and_the_queue_receives()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls);
        syscalls.FailSubmits(Errno.EAGAIN);
        Assert.Equal(16, bed.Post(0, 16));
        Assert.Equal(1, syscalls.Failed);

        new UdpTrafficGenerator(Traffic(bed.Binding, 10)).Run();
        List<int> lengths = ReapFrames(bed, 10, TimeSpan.FromSeconds(10));
        Assert.Equal(10, lengths.Count);
        Assert.Equal(6, bed.CloseQueues());
        bed.TearDown();
        Assert.Equal(0, bed.Pools[0].Inflight);
    }

    [LockedMemoryFact]
    public void A_receive_whose_arm_was_refused_has_its_interrupt_send_the_driver_polling_instead_of_to_sleep()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls);
        syscalls.FailSubmits(Errno.EAGAIN, times: 16);
        Assert.Equal(16, bed.Post(0, 16));
        Assert.Equal(16, syscalls.Failed);
        RxInterrupt interrupt = bed.Rx[0].Interrupt!;

        // No receive is live, so no completion will come: a driver that slept on the interrupt now would never wake.
        Assert.False(interrupt.TryArm());
        Assert.Equal(0, bed.Rx[0].Reap(new RxFrame[4]));
        Assert.True(interrupt.TryArm(), "the reap armed the receive again, so the driver may sleep until a completion comes");

        interrupt.Disarm();
        Assert.Equal(16, bed.CloseQueues());
        bed.TearDown();
    }

    [LockedMemoryFact]
    public void Close_cancels_every_receive_of_the_queue_and_leaves_none_live()
    {
        using var bed = new UringTestBed(Loopback);
        Assert.Equal(8, bed.Post(0, 8));
        IoUringRing ring = Rx(bed).Queue.Ring;

        // A second multishot receive on the same buffer group, as a stale submission would leave.
        var receive = new IoUringSqe
        {
            Opcode = IoUringAbi.OpRecv,
            Flags = IoUringAbi.SqeBufferSelect,
            IoPrio = IoUringAbi.RecvMultishot,
            Fd = Rx(bed).Queue.SocketFd,
            UserData = UringQueue.ReceiveUserData,
            BufGroup = Rx(bed).Buffers.GroupId,
        };
        lock (ring.Gate)
        {
            Assert.Equal(1, ring.Submit(receive));
        }

        Assert.Equal(8, bed.Rx[0].Close());

        // Ask the kernel itself: a cancel of every receive must find none left.
        Assert.Equal(0, CancelEveryReceive(ring));
        bed.TearDown();
        Assert.Equal(0, bed.Pools[0].Inflight);
    }

    [LockedMemoryFact]
    public void A_cancel_whose_submission_failed_is_submitted_again_and_close_returns_every_page()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls);
        Assert.Equal(20, bed.Post(0, 20));
        syscalls.FailSubmits(Errno.ENOMEM);

        Assert.Equal(20, bed.Rx[0].Close());
        Assert.Equal(1, syscalls.Failed);
        bed.TearDown();
        Assert.Equal(0, bed.Pools[0].Inflight);
        Assert.Equal(0, bed.Binding.GetCounters().PagesLeftWithKernel);
    }

    [LockedMemoryFact]
    public void A_close_whose_receive_never_ends_keeps_its_posted_pages_out_of_the_pool_for_good_and_reports_them()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls, closeTimeout: TimeSpan.FromMilliseconds(500));
        Assert.Equal(12, bed.Post(0, 12));
        syscalls.FailSubmits(Errno.ENOMEM, times: int.MaxValue);

        var timeout = Assert.Throws<TimeoutException>(() => bed.Rx[0].Close());
        Assert.Contains("12 posted pages", timeout.Message);
        syscalls.FailSubmits(Errno.ENOMEM, times: 0);
        Assert.Equal(12, bed.Binding.GetCounters().PagesLeftWithKernel);
        Assert.Contains(bed.Binding.GetProblems(), p => p.Contains("12 pages", StringComparison.Ordinal));

        // Teardown closes the ring (the kernel ends the receive with it); the 12 pages never go back to the pool.
        bed.TearDown();
        Assert.Equal(12, bed.Pools[0].Inflight);
    }

    [LockedMemoryFact]
    public void A_buffer_ring_the_kernel_refused_to_unregister_is_never_freed_is_reported_and_the_queue_opens_again()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls);
        Assert.Equal(8, bed.Post(0, 8));
        ProvidedBufferRing refused = Rx(bed).Buffers;
        syscalls.FailRegisters(IoUringAbi.UnregisterPbufRing, Errno.EINVAL);

        Assert.Equal(8, bed.Rx[0].Close());
        Assert.False(refused.IsMemoryFreed, "the ring memory was freed while the kernel may still read it");
        UringCounters counters = bed.Binding.GetCounters();
        Assert.Equal(1, counters.BufferRingsLeaked);
        Assert.Equal(1, counters.KernelErrors);
        Assert.Contains(bed.Binding.GetProblems(), p => p.Contains("unregister", StringComparison.Ordinal));

        // The next driver incarnation opens the queue again and receives.
        bed.Rx[0] = bed.Binding.OpenRxQueue(0, bed.Pools[0]);
        Assert.Equal(8, bed.Post(0, 8));
        new UdpTrafficGenerator(Traffic(bed.Binding, 5)).Run();
        Assert.Equal(5, ReapFrames(bed, 5, TimeSpan.FromSeconds(10)).Count);
        bed.TearDown();
        Assert.Equal(0, bed.Pools[0].Inflight);
    }

    [LockedMemoryFact]
    public async Task A_second_close_waits_for_the_first_and_returns_nothing()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls);
        Assert.Equal(16, bed.Post(0, 16));

        // The first close is held inside its cancel's submission, the way a teardown overlaps a late driver's close.
        FaultingSyscalls.HeldCall held = syscalls.HoldNextSubmit();
        Task<long> first = Task.Run(() => bed.Rx[0].Close());
        Assert.True(held.WaitEntered(TimeSpan.FromSeconds(10)), "the first close never submitted its cancel");

        Task<long> second = Task.Run(() => bed.Rx[0].Close());

        // A close that does not wait returns within this window; one that waits passes whatever the timing.
        bool secondEndedEarly = await Task.WhenAny(second, Task.Delay(TimeSpan.FromMilliseconds(500))) == second;
        held.Release();

        Assert.False(secondEndedEarly, "the second close returned while the first was still closing");
        Assert.Equal(16, await first.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await second.WaitAsync(TimeSpan.FromSeconds(30)));
        bed.TearDown();
        Assert.Equal(0, bed.Pools[0].Inflight);
        Assert.Equal(16, bed.Binding.GetCounters().PagesReturnedByClose);
    }

    [LockedMemoryFact]
    public async Task Close_from_another_thread_waits_for_the_reap_in_flight_and_then_cancels_what_it_armed()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls);
        Assert.Equal(4, bed.Post(0, 4));

        // Four datagrams fill the four pages, a fifth ends the receive with ENOBUFS; one page posted before the reap
        // makes that reap arm the receive again.
        new UdpTrafficGenerator(Traffic(bed.Binding, 5)).Run();
        Assert.True(SpinWait.SpinUntil(() => Rx(bed).CompletionsWaiting >= 5, TimeSpan.FromSeconds(10)), "the ring did not run dry");

        // The fifth datagram is taken off the socket here, so the receive armed again has nothing to end on by itself.
        using (var socket = new Socket(new SafeSocketHandle(Rx(bed).Queue.SocketFd, ownsHandle: false)))
        {
            Assert.Equal(200, socket.Receive(new byte[4096]));
        }

        Assert.Equal(1, bed.Post(0, 1));

        FaultingSyscalls.HeldCall held = syscalls.HoldNextSubmit();
        var frames = new RxFrame[8];
        Task<int> reap = Task.Run(() => bed.Rx[0].Reap(frames));
        Assert.True(held.WaitEntered(TimeSpan.FromSeconds(10)), "the reap did not arm the receive again");

        Task<long> close = Task.Run(() => bed.Rx[0].Close());

        // Time for the closer to reach the queue while the reap is still inside: the outcome must not depend on it,
        // only the spec's power to catch a close that does not wait.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        held.Release();
        int reaped = await reap.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(4, reaped);
        for (int i = 0; i < reaped; i++)
        {
            frames[i].Netmem.ReturnToPool();
        }

        // The receive the reap armed was cancelled and its page came back.
        Assert.Equal(1, await close.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, CancelEveryReceive(Rx(bed).Queue.Ring));
        bed.TearDown();
        Assert.Equal(0, bed.Pools[0].Inflight);
        Assert.Equal(0, bed.Binding.GetCounters().PagesLeftWithKernel);
    }

    [LockedMemoryFact]
    public async Task A_close_that_cannot_wait_out_the_reap_in_flight_leaves_the_posted_pages_with_the_kernel()
    {
        var syscalls = new FaultingSyscalls();
        using var bed = new UringTestBed(Loopback, syscalls: syscalls, closeTimeout: TimeSpan.FromMilliseconds(300));
        Assert.Equal(4, bed.Post(0, 4));
        new UdpTrafficGenerator(Traffic(bed.Binding, 5)).Run();
        Assert.True(SpinWait.SpinUntil(() => Rx(bed).CompletionsWaiting >= 5, TimeSpan.FromSeconds(10)), "the ring did not run dry");
        Assert.Equal(1, bed.Post(0, 1));

        // The reap is held inside the kernel call that arms the receive again, past the close's timeout.
        FaultingSyscalls.HeldCall held = syscalls.HoldNextSubmit();
        var frames = new RxFrame[8];
        Task<int> reap = Task.Run(() => bed.Rx[0].Reap(frames));
        Assert.True(held.WaitEntered(TimeSpan.FromSeconds(10)), "the reap did not arm the receive again");

        var timeout = Assert.Throws<TimeoutException>(() => bed.Rx[0].Close());
        Assert.Contains("did not return", timeout.Message);
        held.Release();
        int reaped = await reap.WaitAsync(TimeSpan.FromSeconds(30));
        for (int i = 0; i < reaped; i++)
        {
            frames[i].Netmem.ReturnToPool();
        }

        // The page posted for the receive the reap armed stays out of the pool for good.
        Assert.Equal(1, bed.Binding.GetCounters().PagesLeftWithKernel);
        Assert.Throws<InvalidOperationException>(() => bed.Rx[0].Reap(frames));
        bed.TearDown();
        Assert.Equal(1, bed.Pools[0].Inflight);
    }
}
