using Netmem.Driver.Devices;
using Netmem.TestSupport;
using Netmem.Uring.Interop;
using Netmem.Uring.Ring;
using Xunit;

namespace Netmem.Uring.Tests;

public sealed class RingSetupSpecs
{
    [LockedMemoryFact]
    public void A_ring_sets_up_passes_the_probe_and_completes_a_nop_through_the_mapped_rings()
    {
        using IoUringRing ring = IoUringRing.Create(8, 64);
        KernelSupport.ThrowIfUnsupported(ring);
        Assert.True(ring.CompletionEntries >= 64);
        Assert.NotEqual(0u, ring.Features & IoUringAbi.FeatSingleMmap);

        for (ulong round = 1; round <= 20; round++)
        {
            lock (ring.Gate)
            {
                Assert.Equal(1, ring.Submit(new IoUringSqe { Opcode = IoUringAbi.OpNop, UserData = 1000 + round }));
            }

            IoUringCqe cqe = default;
            long deadline = Environment.TickCount64 + 5000;
            bool seen = false;
            while (!seen && Environment.TickCount64 < deadline)
            {
                lock (ring.Gate)
                {
                    seen = ring.TryPeek(0, out cqe);
                    if (seen)
                    {
                        ring.Consume(1);
                    }
                }

                if (!seen)
                {
                    ring.WaitForCompletion(TimeSpan.FromMilliseconds(50));
                }
            }

            Assert.True(seen, "the NOP's completion never arrived");
            Assert.Equal(1000 + round, cqe.UserData);
            Assert.Equal(0, cqe.Res);
        }
    }

    [LockedMemoryFact]
    public void A_timed_wait_on_an_idle_ring_returns_after_its_timeout()
    {
        using IoUringRing ring = IoUringRing.Create(8, 64);
        long start = Environment.TickCount64;
        int result = ring.WaitForCompletion(TimeSpan.FromMilliseconds(50));
        long waited = Environment.TickCount64 - start;
        Assert.Equal(-Errno.ETIME, result);
        Assert.InRange(waited, 30, 30_000);
    }

    [Fact]
    public void A_process_not_charged_for_pinned_pages_gets_every_slot_it_asks_for_and_the_budget_in_words()
    {
        (int slots, string report) = KernelSupport.FitSlots(askedSlots: 4096, queues: 2, pageSize: 4096, ringSize: 256, ringBytesPerQueue: 0, limitBytes: 8 << 20, share: 1, charged: false);
        Assert.Equal(4096, slots);
        Assert.Contains("32768 KiB", report);
        Assert.Contains("RLIMIT_MEMLOCK is 8192 KiB", report);
        Assert.Contains("CAP_IPC_LOCK", report);
    }

    [Fact]
    public void A_charged_process_under_a_locked_memory_limit_too_small_for_the_slots_asked_gets_the_slots_that_fit()
    {
        (int slots, string report) = KernelSupport.FitSlots(askedSlots: 4096, queues: 2, pageSize: 4096, ringSize: 256, ringBytesPerQueue: 40 << 10, limitBytes: 8 << 20, share: 1, charged: true);
        Assert.Equal(1014, slots);
        Assert.Contains("1014 slots per queue of the 4096 asked", report);
        Assert.Contains("the rings take 80 KiB", report);
        Assert.Contains("8192 KiB", report);
        Assert.Contains("RLIMIT_MEMLOCK", report);
    }

    [Fact]
    public void A_charged_process_whose_slots_fit_the_limit_keeps_them_and_an_unlimited_one_too()
    {
        Assert.Equal(512, KernelSupport.FitSlots(512, 2, 4096, 256, 40 << 10, 8 << 20, 1, charged: true).Slots);
        Assert.Equal(16384, KernelSupport.FitSlots(16384, 4, 4096, 256, 40 << 10, ulong.MaxValue, 1, charged: true).Slots);
    }

    [Fact]
    public void A_device_given_a_share_of_the_locked_memory_limit_fits_its_slots_to_its_share()
    {
        (int slots, string report) = KernelSupport.FitSlots(askedSlots: 4096, queues: 2, pageSize: 4096, ringSize: 256, ringBytesPerQueue: 40 << 10, limitBytes: 8 << 20, share: 0.5, charged: true);
        Assert.Equal(502, slots);
        Assert.Contains("RLIMIT_MEMLOCK is 8192 KiB, this device's share 4096 KiB", report);
    }

    [Fact]
    public void When_not_even_the_ring_fits_the_locked_memory_limit_the_bind_is_refused_with_the_figures()
    {
        var refusal = Assert.Throws<DeviceBindException>(() => KernelSupport.FitSlots(4096, 2, 4096, 256, 8 << 10, 1 << 20, 1, charged: true));
        Assert.Contains("2064 KiB", refusal.Message);
        Assert.Contains("RLIMIT_MEMLOCK is 1024 KiB", refusal.Message);
        Assert.Contains("ulimit -l", refusal.Message);
    }

    [Theory]
    [InlineData("         0          0 4294967295\n", true)]
    [InlineData("         0       1001          1\n", false)]
    [InlineData("         0     100000      65536\n", false)]
    [InlineData("", false)]
    public void Only_the_initial_user_namespace_maps_every_user_id_onto_itself(string uidMap, bool initial) =>
        Assert.Equal(initial, KernelSupport.IsInitialUserNamespace(uidMap));
}
