using System.Net;
using Netmem.Driver.Devices;
using Netmem.TestSupport;
using Netmem.Uring.Interop;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>Bind refuses in words what the kernel or the process does not allow.</summary>
public sealed class BindRefusalSpecs
{
    private const int RlimitMemlock = 8;

    [Fact]
    public void Without_CAP_NET_RAW_a_packet_source_is_refused_naming_the_missing_permission()
    {
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            // Only this short-lived thread loses the capability.
            ThreadCapabilities.DropEffective(ThreadCapabilities.NetRaw);
            try
            {
                new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("lo") }).Bind(new DeviceBindContext(1, 4096, 32));
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)));

        var refusal = Assert.IsType<DeviceBindException>(caught);
        Assert.Contains("CAP_NET_RAW", refusal.Message);
    }

    [LockedMemoryFact]
    public void A_thread_charged_for_the_pages_it_pins_binds_with_as_many_slots_as_the_locked_memory_limit_allows()
    {
        const int queues = 2, asked = 4096, ring = 256;
        (ulong limit, _) = LinuxSyscalls.GetResourceLimit(RlimitMemlock);
        long fitting = limit == ulong.MaxValue ? asked : (long)Math.Min(asked, limit / (queues * 4096UL));
        int slots = 0;
        string report = string.Empty;
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            // Only this short-lived thread loses the capability, so the kernel and the bind charge it for every pin.
            ThreadCapabilities.DropEffective(ThreadCapabilities.IpcLock);
            try
            {
                var device = new UringDevice(new UringDeviceOptions { Source = UringSource.Udp(new IPEndPoint(IPAddress.Loopback, 0)), SlotsPerQueue = asked });
                UringBinding binding = device.Bind(new DeviceBindContext(queues, 4096, ring));
                (slots, report) = (binding.SlotsPerQueue, binding.LockedMemoryReport);
                binding.TearDown(0);
            }
            catch (Exception e)
            {
                caught = e;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)));

        if (fitting < ring)
        {
            var refusal = Assert.IsType<DeviceBindException>(caught);
            Assert.Contains("RLIMIT_MEMLOCK", refusal.Message);
        }
        else
        {
            // The pages fit beside the rings' own memory, which takes a few dozen slots' worth at most.
            Assert.Null(caught);
            Assert.InRange(slots, Math.Min(asked, fitting - 64), Math.Min(asked, fitting));
            Assert.True(slots == asked || slots < fitting, $"{slots} slots leave no room for the rings");
            Assert.Contains("RLIMIT_MEMLOCK", report);
        }
    }

    [Fact]
    public void A_ring_larger_than_the_slots_a_queue_has_is_refused_in_words()
    {
        var device = new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("lo"), SlotsPerQueue = 64 });
        var refusal = Assert.Throws<DeviceBindException>(() => device.Bind(new DeviceBindContext(1, 4096, 128)));
        Assert.Contains("registered slot", refusal.Message);
    }

    [PrivilegedFact]
    public void A_device_binds_again_after_teardown_and_its_counters_add_up_over_binds()
    {
        var device = new UringDevice(new UringDeviceOptions { Source = UringSource.Packet("lo"), SlotsPerQueue = 64 });
        using var pages = new NativePages(3);
        for (int round = 0; round < 3; round++)
        {
            UringBinding binding = device.Bind(new DeviceBindContext(1, 4096, 32));
            Assert.Same(binding, device.CurrentBinding);
            Assert.Throws<InvalidOperationException>(() => device.Bind(new DeviceBindContext(1, 4096, 32)));
            binding.GetDmaDevice(0).Map(pages[round], Pool.Dma.DmaDirection.FromDevice);
            Assert.Equal(new DeviceTeardownReport(1, 0, 0), binding.TearDown(1));
            Assert.Null(device.CurrentBinding);
        }

        UringCounters total = device.GetCounters();
        Assert.Equal(3, total.Maps);
        Assert.Equal(3, total.RevokedAtTeardown);
        Assert.Equal(3, total.UnpinConfirmations);
        Assert.Equal(0, total.LiveSlots);
    }
}
