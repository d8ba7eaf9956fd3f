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
/// <para><b>The semaphore counts enablings, not wake-ups.</b> Every arming releases it once, an arming the driver
/// takes back included, so permits can pile up; each only makes the thread look at the CQ once more, and a look that
/// finds the driver no longer armed raises nothing. Once stopping, an enabling releases nothing, so an arming racing
/// the close never touches a line that is going away. The thread waits in slices, so a close that stops it is heard
/// within one slice; a wait that fails for another reason than the slice ending is retried after a slice's pause,
/// never at once, so a failing kernel call cannot make it spin.</para>
/// </remarks>
internal sealed class UringInterruptLine : IDisposable
{
    private static readonly TimeSpan WaitSlice = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StopPatience = TimeSpan.FromSeconds(5);

    private readonly IoUringRing _ring;
    private readonly SemaphoreSlim _enabled = new(0);
    private readonly Thread _thread;
    private volatile bool _stopping;

    /// <param name="ring">The queue's ring, whose completions the line waits for.</param>
    /// <param name="queue">The queue's index, for the thread's name.</param>
    /// <param name="workWithoutCompletion">
    /// Whether the receive side has work for the driver that no completion announces (a receive to arm again after a
    /// refused arming): the driver then polls instead of sleeping.
    /// </param>
    public UringInterruptLine(IoUringRing ring, int queue, Func<bool> workWithoutCompletion)
    {
        _ring = ring;
        Interrupt = new RxInterrupt(() => _ring.HasCompletions || workWithoutCompletion(), Enable);
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
        _thread.Join(StopPatience);
    }

    private void Enable()
    {
        if (!_stopping)
        {
            _enabled.Release();
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

                int waited = _ring.WaitForCompletion(WaitSlice);
                if (waited == -Errno.EBADF)
                {
                    return;
                }

                if (waited < 0 && waited != -Errno.ETIME)
                {
                    Thread.Sleep(WaitSlice);
                }
            }

            if (_stopping)
            {
                return;
            }
        }
    }
}
