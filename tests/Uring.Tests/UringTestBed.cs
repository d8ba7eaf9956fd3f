using System.Net;
using Netmem.Driver.Devices;
using Netmem.Pool;
using Netmem.Stack.Rx;
using Netmem.Uring.Ring;

namespace Netmem.Uring.Tests;

/// <summary>
/// A bound io_uring device with one pool and one open receive queue per test, driven directly (no actors), and the
/// bounded loops the receive specs share. Disposing closes, destroys and tears down in the unbind order.
/// </summary>
internal sealed class UringTestBed : IDisposable
{
    public const int RingSize = 256;

    private readonly List<NetmemRef> _held = new();

    public UringTestBed(UringSource source, int queues = 1, int slots = 1024, int ringSize = RingSize, Interop.IUringSyscalls? syscalls = null, TimeSpan? closeTimeout = null)
    {
        var options = new UringDeviceOptions { Source = source, SlotsPerQueue = slots, CloseTimeout = closeTimeout ?? TimeSpan.FromSeconds(5) };
        Device = new UringDevice(options, syscalls ?? Interop.KernelUringSyscalls.Instance);
        Binding = Device.Bind(new DeviceBindContext(queues, 4096, ringSize));
        Pools = new PagePool[queues];
        Rx = new IRxQueueDevice[queues];
        for (int q = 0; q < queues; q++)
        {
            Pools[q] = new PagePool(new PagePoolOptions { Device = Binding.GetDmaDevice(q), QueueIndex = q, Name = $"uring-test-rx{q}" });
            Rx[q] = Binding.OpenRxQueue(q, Pools[q]);
        }
    }

    public UringDevice Device { get; }

    public UringBinding Binding { get; }

    public PagePool[] Pools { get; }

    public IRxQueueDevice[] Rx { get; }

    public bool Closed { get; private set; }

    public DeviceTeardownReport? Report { get; private set; }

    /// <summary>Posts up to <paramref name="count"/> fresh pages to queue <paramref name="queue"/>; returns how many went in.</summary>
    public int Post(int queue, int count)
    {
        int posted = 0;
        for (; posted < count; posted++)
        {
            NetmemRef page = Pools[queue].Allocate();
            if (!Rx[queue].TryPost(page))
            {
                Pools[queue].Return(page);
                break;
            }
        }

        return posted;
    }

    /// <summary>
    /// Reaps queue <paramref name="queue"/> until <paramref name="until"/> holds or <paramref name="timeout"/> passes,
    /// handing each frame to <paramref name="onFrame"/> (which must return the page) and reposting a page per frame
    /// when <paramref name="repost"/>.
    /// </summary>
    public void ReapUntil(int queue, Func<bool> until, Action<RxFrame> onFrame, TimeSpan timeout, bool repost = true)
    {
        var frames = new RxFrame[64];
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!until() && Environment.TickCount64 < deadline)
        {
            int n = Rx[queue].Reap(frames);
            for (int i = 0; i < n; i++)
            {
                onFrame(frames[i]);
            }

            if (repost && n > 0)
            {
                Post(queue, n);
            }

            if (n == 0)
            {
                ((UringRxQueue)Rx[queue]).WaitForCompletion(TimeSpan.FromMilliseconds(5));
            }
        }
    }

    /// <summary>Keeps a page out of the pool (as a consumer would) until disposal.</summary>
    public void Hold(NetmemRef page) => _held.Add(page);

    /// <summary>Closes every receive queue; returns the pages Close gave back.</summary>
    public long CloseQueues()
    {
        Closed = true;
        return Rx.Sum(rx => rx.Close());
    }

    /// <summary>The unbind order: close the queues, return held pages, destroy the pools, tear the domain down.</summary>
    public DeviceTeardownReport TearDown()
    {
        if (!Closed)
        {
            CloseQueues();
        }

        foreach (NetmemRef page in _held)
        {
            page.ReturnToPool();
        }

        _held.Clear();
        foreach (PagePool pool in Pools)
        {
            pool.Destroy();
        }

        Report = Binding.TearDown(0);
        return Report;
    }

    public void Dispose()
    {
        if (Report is null && !Binding.IsTornDown)
        {
            TearDown();
        }
    }
}
