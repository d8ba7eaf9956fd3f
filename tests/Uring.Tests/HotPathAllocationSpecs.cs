using System.Net;
using Netmem.Pool;
using Netmem.Stack.Rx;
using Netmem.TestSupport;
using Netmem.Uring.Ring;
using Netmem.Uring.Traffic;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>The per-packet path of the io_uring receive side allocates nothing.</summary>
public sealed class HotPathAllocationSpecs
{
    [LockedMemoryFact]
    public void Reaping_frames_and_posting_pages_allocate_nothing_on_the_driver_thread()
    {
        const int count = 200;
        using var bed = new UringTestBed(UringSource.Udp(new IPEndPoint(IPAddress.Loopback, 0)));
        Assert.Equal(UringTestBed.RingSize, bed.Post(0, UringTestBed.RingSize));
        new UdpTrafficGenerator(new UdpTrafficOptions
        {
            Target = new IPEndPoint(IPAddress.Loopback, bed.Binding.BoundPort),
            Count = count,
            PayloadBytes = 100,
            MaxDuration = TimeSpan.FromSeconds(10),
        }).Run();
        var rx = (UringRxQueue)bed.Rx[0];
        Assert.True(SpinWait.SpinUntil(() => rx.CompletionsWaiting >= count, TimeSpan.FromSeconds(10)), "the kernel did not write every datagram");

        // Everything is written: what follows is the driver's loop alone, measured on this thread once a first round
        // (a batch of 8) has run every path once (first calls may allocate for the runtime's own set-up).
        var frames = new RxFrame[64];
        PagePool pool = bed.Pools[0];
        int received = ReapAndRepost(rx, pool, frames.AsSpan(0, 8));
        long before = GC.GetAllocatedBytesForCurrentThread();
        while (received < count)
        {
            received += ReapAndRepost(rx, pool, frames);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(count, received);
        Assert.Equal(0, allocated);
        Assert.Equal(0, bed.TearDown().Violations);
    }

    private static int ReapAndRepost(UringRxQueue rx, PagePool pool, Span<RxFrame> frames)
    {
        int n = rx.Reap(frames);
        for (int i = 0; i < n; i++)
        {
            pool.Return(frames[i].Netmem);
            rx.TryPost(pool.Allocate());
        }

        return n;
    }
}
