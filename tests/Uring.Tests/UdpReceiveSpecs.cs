using System.Net;
using Netmem.Stack.Parsing;
using Netmem.Stack.Rx;
using Netmem.TestSupport;
using Netmem.Uring.Ring;
using Netmem.Uring.Traffic;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>Real UDP datagrams on loopback, written by the kernel into pool pages through a multishot receive.</summary>
public sealed class UdpReceiveSpecs
{
    private static UringSource Loopback => UringSource.Udp(new IPEndPoint(IPAddress.Loopback, 0));

    private static UdpTrafficOptions Traffic(UringBinding binding, long count, int payload = 200, double rate = 0, int flows = 4) => new()
    {
        Target = new IPEndPoint(IPAddress.Loopback, binding.BoundPort),
        Count = count,
        PayloadBytes = payload,
        PacketsPerSecond = rate,
        Flows = flows,
        MaxDuration = TimeSpan.FromSeconds(10),
    };

    [LockedMemoryFact]
    public async Task Sent_datagrams_arrive_exactly_once_each_with_their_bytes_in_pool_pages()
    {
        const int count = 2000;
        using var bed = new UringTestBed(Loopback);
        Assert.Equal(UringTestBed.RingSize, bed.Post(0, UringTestBed.RingSize));

        UdpTrafficReport sent = await new UdpTrafficGenerator(Traffic(bed.Binding, count, rate: 50_000)).RunAsync();
        Assert.Equal(count, sent.Sent);

        var seen = new HashSet<long>();
        int bad = 0;
        bed.ReapUntil(0, () => seen.Count + bad >= count, frame =>
        {
            long sequence = UdpTrafficGenerator.Validate(frame.Netmem.GetSpan().Slice(frame.Offset, frame.Length), 200);
            if (sequence < 0 || !seen.Add(sequence))
            {
                bad++;
            }

            frame.Netmem.ReturnToPool();
        }, TimeSpan.FromSeconds(10));

        // Nothing more may come: every datagram was delivered once.
        bed.ReapUntil(0, () => false, _ => bad++, TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, bad);
        Assert.Equal(count, seen.Count);
        Assert.Equal(count, bed.Binding.GetCounters().FramesReceived);
        Assert.Equal(count * 200L, bed.Binding.GetCounters().BytesReceived);

        Assert.Equal(UringTestBed.RingSize, bed.CloseQueues());
        var report = bed.TearDown();
        Assert.Equal(0, report.StillMapped);
        Assert.Equal(0, report.Violations);
        Assert.Equal(0, bed.Pools[0].Inflight);
        UringCounters counters = bed.Binding.GetCounters();
        Assert.Equal(counters.Maps, counters.UnpinConfirmations);
    }

    [LockedMemoryFact]
    public void The_device_declares_its_frames_udp_payloads_of_the_flow_from_any_sender_to_the_bound_address_and_port()
    {
        using var bed = new UringTestBed(Loopback, queues: 2);
        var flow = new FlowKey(IpAddress.FromIPv4(0), IpAddress.FromIPv4(0x7F00_0001), 0, (ushort)bed.Binding.BoundPort, IpProtocol.Udp);

        Assert.NotEqual(0, bed.Binding.BoundPort);
        Assert.Equal(flow, bed.Binding.FrameFormat.PayloadFlow);
        Assert.All(bed.Rx, rx => Assert.Same(bed.Binding.FrameFormat, rx.FrameFormat));
    }

    [LockedMemoryFact]
    public void A_ring_that_runs_dry_ends_the_receive_with_ENOBUFS_and_reposting_rearms_it()
    {
        const int count = 300;
        using var bed = new UringTestBed(Loopback);
        Assert.Equal(4, bed.Post(0, 4));

        // A burst far larger than the ring: the kernel fills the 4 pages, then ends the multishot receive.
        UdpTrafficReport sent = new UdpTrafficGenerator(Traffic(bed.Binding, count, payload: 64, flows: 2)).Run();
        Assert.Equal(count, sent.Sent);

        var frames = new RxFrame[64];
        int received = 0;
        long deadline = Environment.TickCount64 + 5000;
        while (received < 4 && Environment.TickCount64 < deadline)
        {
            int n = bed.Rx[0].Reap(frames);
            for (int i = 0; i < n; i++)
            {
                frames[i].Netmem.ReturnToPool();
            }

            received += n;
            Thread.Sleep(n == 0 ? 5 : 0);
        }

        Assert.Equal(4, received);
        Assert.Equal(0, bed.Rx[0].Posted);

        // The ring ran dry: the receive ended with ENOBUFS and nothing arms it until a page is posted.
        Thread.Sleep(50);
        Assert.Equal(0, bed.Rx[0].Reap(frames));
        Assert.Equal(1, bed.Binding.GetCounters().ReceiveArms);

        // Reposting arms the receive again; the datagrams that waited in the socket arrive.
        Assert.Equal(64, bed.Post(0, 64));
        bed.ReapUntil(0, () => received >= count, frame =>
        {
            Assert.True(UdpTrafficGenerator.Validate(frame.Netmem.GetSpan()[..frame.Length], 64) >= 0);
            frame.Netmem.ReturnToPool();
            received++;
        }, TimeSpan.FromSeconds(10));

        Assert.Equal(count, received);
        Assert.True(bed.Binding.GetCounters().EnobufsRearms >= 1);
        Assert.Equal(0, bed.TearDown().Violations);
    }

    [LockedMemoryFact]
    public void Close_returns_every_posted_page_and_the_pool_ends_with_nothing_inflight()
    {
        using var bed = new UringTestBed(Loopback);
        Assert.Equal(100, bed.Post(0, 100));
        Assert.Equal(100, bed.Rx[0].Posted);

        Assert.Equal(100, bed.CloseQueues());
        Assert.Throws<InvalidOperationException>(() => bed.Rx[0].Reap(new RxFrame[4]));
        var report = bed.TearDown();
        Assert.Equal(0, bed.Pools[0].Inflight);
        Assert.Equal(0, report.StillMapped);
        Assert.Equal(1, report.Violations);
        Assert.Equal(100, bed.Binding.GetCounters().PagesReturnedByClose);
    }

    [LockedMemoryFact]
    public void Close_takes_back_written_pages_nobody_reaped_and_a_queue_opens_again_after_it()
    {
        using var bed = new UringTestBed(Loopback);
        bed.Post(0, 32);

        // Sent from this thread, so the receive this thread armed stays alive; the kernel writes 10 pages.
        new UdpTrafficGenerator(Traffic(bed.Binding, 10)).Run();
        // Written means completed: a datagram the kernel has not yet taken would go to the next queue instead.
        Assert.True(SpinWait.SpinUntil(() => ((UringRxQueue)bed.Rx[0]).CompletionsWaiting >= 10, TimeSpan.FromSeconds(10)), "the kernel did not write the 10 datagrams");

        Assert.Equal(32, bed.Rx[0].Close());
        Assert.Equal(0, bed.Binding.GetCounters().FramesReceived);

        // The next driver incarnation opens the queue again and receives only what is sent now.
        bed.Rx[0] = bed.Binding.OpenRxQueue(0, bed.Pools[0]);
        bed.Post(0, 32);
        new UdpTrafficGenerator(Traffic(bed.Binding, 10)).Run();
        int received = 0;
        void Count(RxFrame frame)
        {
            frame.Netmem.ReturnToPool();
            received++;
        }

        // Reaps until the 10 are in (however slowly), then a while longer, so that any frame beyond them is counted too.
        bed.ReapUntil(0, () => received >= 10, Count, TimeSpan.FromSeconds(10));
        bed.ReapUntil(0, () => false, Count, TimeSpan.FromMilliseconds(200));
        Assert.Equal(10, received);
        Assert.Equal(0, bed.TearDown().Violations);
        Assert.Equal(0, bed.Pools[0].Inflight);
    }

    [LockedMemoryFact]
    public async Task Two_queues_share_the_port_and_together_receive_every_datagram()
    {
        const int count = 1000;
        using var bed = new UringTestBed(Loopback, queues: 2);
        bed.Post(0, 128);
        bed.Post(1, 128);
        await new UdpTrafficGenerator(Traffic(bed.Binding, count, flows: 16, rate: 50_000)).RunAsync();

        var seen = new HashSet<long>();
        var perQueue = new int[2];
        long deadline = Environment.TickCount64 + 10_000;
        while (seen.Count < count && Environment.TickCount64 < deadline)
        {
            for (int q = 0; q < 2; q++)
            {
                int queue = q;
                var frames = new RxFrame[64];
                int n = bed.Rx[q].Reap(frames);
                for (int i = 0; i < n; i++)
                {
                    Assert.True(seen.Add(UdpTrafficGenerator.Validate(frames[i].Netmem.GetSpan()[..frames[i].Length], 200)));
                    frames[i].Netmem.ReturnToPool();
                    perQueue[queue]++;
                }

                bed.Post(q, n);
            }

            Thread.Sleep(1);
        }

        Assert.Equal(count, seen.Count);
        Assert.All(perQueue, n => Assert.True(n > 0, "SO_REUSEPORT spread no flow to one queue"));
        Assert.Equal(0, bed.TearDown().Violations);
    }

    [LockedMemoryFact]
    public void A_receive_armed_by_a_thread_that_exited_still_delivers_every_datagram()
    {
        using var bed = new UringTestBed(Loopback);

        // Armed from a thread that then exits: io_uring ties a request to its task, and depending on how its next
        // event is run the kernel either completes it through its fallback worker or ends it with ECANCELED without
        // reading the datagram. Either way nothing may be lost: a cancelled receive is armed again by the next reap.
        var arming = new Thread(() => bed.Post(0, 64));
        arming.Start();
        Assert.True(arming.Join(TimeSpan.FromSeconds(5)));

        new UdpTrafficGenerator(Traffic(bed.Binding, 50)).Run();
        int received = 0;
        bed.ReapUntil(0, () => received >= 50, frame =>
        {
            frame.Netmem.ReturnToPool();
            received++;
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(50, received);
        Assert.InRange(bed.Binding.GetCounters().ReceiveArms, 1, 2);
        Assert.Equal(0, bed.TearDown().Violations);
    }

    [LockedMemoryFact]
    public async Task Pages_returned_from_other_threads_unmap_while_the_queue_reaps_and_every_unpin_is_confirmed()
    {
        const int count = 3000;
        var device = new UringDevice(new UringDeviceOptions { Source = Loopback, SlotsPerQueue = 8192 });
        UringBinding binding = device.Bind(new Driver.Devices.DeviceBindContext(1, 4096, 256));

        // A tiny recycle ring: most returns from other threads overflow it and release (unmap) the page there.
        var pool = new Netmem.Pool.PagePool(new Netmem.Pool.PagePoolOptions { Device = binding.GetDmaDevice(0), QueueIndex = 0, PoolSize = 4 });
        var rx = binding.OpenRxQueue(0, pool);
        for (int i = 0; i < 256; i++)
        {
            Assert.True(rx.TryPost(pool.Allocate()));
        }

        var sender = new UdpTrafficGenerator(Traffic(binding, count, payload: 64, rate: 60_000, flows: 8)).RunAsync();
        var returns = new List<Task>();
        var frames = new RxFrame[64];
        int received = 0;
        long deadline = Environment.TickCount64 + 15_000;
        while (received < count && Environment.TickCount64 < deadline)
        {
            int n = rx.Reap(frames);
            if (n > 0)
            {
                RxFrame[] batch = frames[..n];
                returns.Add(Task.Run(() =>
                {
                    foreach (RxFrame frame in batch)
                    {
                        Assert.True(UdpTrafficGenerator.Validate(frame.Netmem.GetSpan()[..frame.Length], 64) >= 0);
                        frame.Netmem.ReturnToPool();
                    }
                }));
                for (int i = 0; i < n; i++)
                {
                    Assert.True(rx.TryPost(pool.Allocate()));
                }

                received += n;
            }
            else
            {
                Thread.Sleep(1);
            }
        }

        await sender.WaitAsync(TimeSpan.FromSeconds(15));
        await Task.WhenAll(returns).WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(count, received);
        rx.Close();
        pool.Destroy();
        Driver.Devices.DeviceTeardownReport report = binding.TearDown(0);
        UringCounters counters = binding.GetCounters();
        Assert.Equal(0, report.Violations);
        Assert.Equal(0, report.StillMapped);
        Assert.True(counters.Unmaps > 256, $"only {counters.Unmaps} unmaps: the returns did not overflow the recycle ring");
        Assert.Equal(counters.Maps, counters.Unmaps);
        Assert.Equal(counters.Maps, counters.UnpinConfirmations);
        Assert.Equal(0, pool.Inflight);
    }

    [LockedMemoryFact]
    public void A_page_not_mapped_by_the_queue_is_refused()
    {
        using var bed = new UringTestBed(Loopback);
        var foreign = new Netmem.Pool.PagePool(new Netmem.Pool.PagePoolOptions());
        var page = foreign.Allocate();
        Assert.ThrowsAny<InvalidOperationException>(() => bed.Rx[0].TryPost(page));
        foreign.Return(page);
        foreign.Destroy();
    }

    [Fact]
    public void The_generator_refuses_a_target_off_this_machine()
    {
        Assert.Throws<ArgumentException>(() => new UdpTrafficGenerator(new UdpTrafficOptions { Target = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 9) }));
    }
}
