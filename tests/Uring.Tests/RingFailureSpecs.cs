using Netmem.TestSupport;
using Netmem.Uring.Interop;
using Netmem.Uring.Ring;
using Xunit;

namespace Netmem.Uring.Tests;

/// <summary>The ring itself when a kernel call fails or a close overlaps a call.</summary>
public sealed class RingFailureSpecs
{
    private static IoUringCqe? NextCompletion(IoUringRing ring)
    {
        long deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline)
        {
            lock (ring.Gate)
            {
                if (ring.TryPeek(0, out IoUringCqe cqe))
                {
                    ring.Consume(1);
                    return cqe;
                }
            }

            ring.WaitForCompletion(TimeSpan.FromMilliseconds(50));
        }

        return null;
    }

    [LockedMemoryFact]
    public void A_submission_whose_enter_failed_leaves_no_entry_behind_for_the_next_enter_to_send()
    {
        var syscalls = new FaultingSyscalls();
        using IoUringRing ring = IoUringRing.Create(8, 64, syscalls);
        syscalls.FailSubmits(Errno.EAGAIN);
        lock (ring.Gate)
        {
            Assert.Equal(-Errno.EAGAIN, ring.Submit(new IoUringSqe { Opcode = IoUringAbi.OpNop, UserData = 1 }));
            Assert.Equal(1, ring.Submit(new IoUringSqe { Opcode = IoUringAbi.OpNop, UserData = 2 }));
        }

        // The kernel saw the second submission only, and nothing is left waiting in the SQ.
        Assert.Equal(2UL, NextCompletion(ring)?.UserData);
        lock (ring.Gate)
        {
            Assert.Equal(1, ring.Submit(new IoUringSqe { Opcode = IoUringAbi.OpNop, UserData = 3 }));
        }

        Assert.Equal(3UL, NextCompletion(ring)?.UserData);
    }

    [LockedMemoryFact]
    public void A_ring_disposed_during_a_call_keeps_its_fd_until_the_call_returns()
    {
        var syscalls = new FaultingSyscalls();
        IoUringRing ring = IoUringRing.Create(8, 64, syscalls);
        int fd = ring.Fd;
        FaultingSyscalls.HeldCall held = syscalls.HoldNextRegister(IoUringAbi.RegisterProbe);
        int result = 0;
        var caller = new Thread(() =>
        {
            unsafe
            {
                byte* probe = stackalloc byte[16 + (8 * 8)];
                new Span<byte>(probe, 16 + (8 * 8)).Clear();
                result = ring.Register(IoUringAbi.RegisterProbe, probe, 8);
            }
        });
        caller.Start();
        Assert.True(held.WaitEntered(TimeSpan.FromSeconds(10)), "the register call never started");

        ring.Dispose();
        Assert.True(ring.IsClosed);
        Assert.Contains("io_uring", FdTarget(fd), StringComparison.Ordinal);

        held.Release();
        Assert.True(caller.Join(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, result);
        Assert.DoesNotContain("io_uring", FdTarget(fd), StringComparison.Ordinal);
    }

    private static string FdTarget(int fd)
    {
        var link = new FileInfo($"/proc/self/fd/{fd}");
        return link.Exists ? link.LinkTarget ?? string.Empty : string.Empty;
    }
}
