using Netmem.Driver.Devices;
using Netmem.Uring.Interop;

namespace Netmem.Uring.Ring;

/// <summary>
/// One RX queue's interrupt line: a thread that, while the driver is armed, waits in the kernel for the queue's next
/// completion and raises the queue's <see cref="RxInterrupt"/> when one is there.
/// </summary>
/// <remarks>
/// <para><b>Intent.</b> NAPI on io_uring. The kernel posts a completion for every frame it writes; the driver reaps
/// them in budgets while they keep coming, and when a poll finds the CQ empty it arms the interrupt, which enables
/// this line. The thread then sleeps in <c>io_uring_enter</c> (GETEVENTS, min_complete 1), the kernel wakes it with
/// the next completion, and it raises the interrupt, which tells the driver to poll: one wake-up per idle-to-busy
/// transition, none per packet, and no thread-pool hop in between. While the driver polls, the line is disabled and
/// the thread sleeps on a semaphore, costing nothing.</para>
/// <para><b>No wake-up is lost.</b> The driver arms, enables the line, then looks at the CQ itself
/// (<see cref="IoUringRing.HasCompletions"/>), so a completion posted before the line was enabled is seen by the
/// driver (<see cref="RxInterrupt"/> argues the arm-then-check order). A completion posted after the thread looked
/// is seen by the kernel's own check inside <c>io_uring_enter</c>, which returns at once when the CQ is not empty, so
/// the thread cannot fall asleep past it. A raise that finds the driver no longer armed (it saw the completion itself)
/// does nothing.</para>
/// <para>The thread waits in slices, so a close that stops it is heard within one slice.</para>
/// </remarks>
internal sealed class UringInterruptLine : IDisposable
{
    private static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(5);

    private readonly IoUringRing _ring;
    private readonly SemaphoreSlim _enabled = new(0);
    private readonly Thread _thread;
    private volatile bool _stopping;

    public UringInterruptLine(IoUringRing ring, int queue)
    {
        _ring = ring;
        Interrupt = new RxInterrupt(() => _ring.HasCompletions, () => _enabled.Release());
        _thread = new Thread(WaitForCompletions) { IsBackground = true, Name = $"io_uring rx{queue} interrupt" };
        _thread.Start();
    }

    /// <summary>The queue's interrupt, which the driver arms and this line raises.</summary>
    public RxInterrupt Interrupt { get; }

    /// <summary>Stops the thread (within one wait slice); the interrupt raises no more.</summary>
    public void Dispose()
    {
        _stopping = true;
        _enabled.Release();
        if (_thread.Join(StopPatience))
        {
            _enabled.Dispose();
        }
    }

    private void WaitForCompletions()
    {
        while (true)
        {
            _enabled.Wait();
            while (!_stopping)
            {
                if (_ring.HasCompletions)
                {
                    Interrupt.Raise();
                    break;
                }

                if (_ring.WaitForCompletion(WaitSlice) == -Errno.EBADF)
                {
                    return;
                }
            }

            if (_stopping)
            {
                return;
            }
        }
    }
}
