using Netmem.Uring.Interop;
using Netmem.Uring.Ring;
using Xunit;

namespace Netmem.Uring.Tests;

public sealed class RingSetupSpecs
{
    [Fact]
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

    [Fact]
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
    public void The_locked_memory_check_reports_the_budget_in_words()
    {
        string report = KernelSupport.CheckLockedMemory(4096L * 1024);
        Assert.Contains("RLIMIT_MEMLOCK", report);
        Assert.Contains("4096 KiB", report);
    }
}
