using Microsoft.Coyote.Specifications;
using Netmem.Driver.Devices;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// The RX queue's <see cref="RxInterrupt"/> under systematic interleaving: a device publishes frames and raises after
/// each; a driver takes every frame there is, arms when it found none, and sleeps until woken. A wake-up lost between
/// "ring empty" and "armed" leaves the driver asleep with frames on its ring, which Coyote reports as a deadlock (the
/// driver waits for a wake-up nobody will give). An interrupt that checks for frames before it arms (the classic
/// mistake) must be found losing one.
/// </summary>
[Collection(nameof(CoyoteCollection))]
public sealed class RxInterruptModelChecks
{
    private const int Frames = 3;

    [Fact]
    public void A_driver_that_arms_after_an_empty_poll_is_woken_for_every_frame_that_lands_and_takes_them_all() =>
        CoyoteHarness.AssertNoBugFound(() => DeviceAndDriver(framesWaiting => new RuntimeInterrupt(framesWaiting)), iterations: 1000);

    [Fact]
    public void An_interrupt_that_checks_for_frames_before_it_arms_is_found_losing_a_wake_up()
    {
        var report = CoyoteHarness.Explore(() => DeviceAndDriver(framesWaiting => new CheckThenArmInterrupt(framesWaiting)), iterations: 300);

        Assert.True(report.NumOfFoundBugs > 0, "Coyote did not find the wake-up a check-then-arm interrupt loses.");
    }

    private static async Task DeviceAndDriver(Func<Func<bool>, IInterruptUnderCheck> create)
    {
        int available = 0;
        int taken = 0;
        int wakeUps = 0;
        IInterruptUnderCheck interrupt = create(() => Volatile.Read(ref available) > 0);
        TaskCompletionSource woken = new(TaskCreationOptions.RunContinuationsAsynchronously);
        interrupt.Connect(() =>
        {
            Interlocked.Increment(ref wakeUps);
            Volatile.Read(ref woken).TrySetResult();
        });

        Task device = Task.Run(() =>
        {
            for (int frame = 0; frame < Frames; frame++)
            {
                Interlocked.Increment(ref available);
                interrupt.Raise();
            }
        });

        Task driver = Task.Run(async () =>
        {
            while (true)
            {
                taken += Interlocked.Exchange(ref available, 0);
                if (taken == Frames)
                {
                    return;
                }

                // A fresh wake-up for this arming, in place before the arming can be raised.
                Volatile.Write(ref woken, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
                if (interrupt.TryArm())
                {
                    await Volatile.Read(ref woken).Task;
                }
            }
        });

        await Task.WhenAll(device, driver);
        Specification.Assert(taken == Frames, $"the driver took {taken} of {Frames} frames.");
        Specification.Assert(Volatile.Read(ref wakeUps) <= Frames, $"{wakeUps} wake-ups for {Frames} raises: an arming delivered twice.");
    }

    private interface IInterruptUnderCheck
    {
        void Connect(Action wake);

        void Raise();

        bool TryArm();
    }

    private sealed class RuntimeInterrupt(Func<bool> framesWaiting) : IInterruptUnderCheck
    {
        private readonly RxInterrupt _interrupt = new(framesWaiting);

        public void Connect(Action wake) => _interrupt.Connect(wake);

        public void Raise() => _interrupt.Raise();

        public bool TryArm() => _interrupt.TryArm();
    }

    /// <summary>The planted bug: it looks for frames, then arms; a frame landing in between raises nothing.</summary>
    private sealed class CheckThenArmInterrupt(Func<bool> framesWaiting) : IInterruptUnderCheck
    {
        private Action? _wake;
        private int _armed;

        public void Connect(Action wake) => _wake = wake;

        public void Raise()
        {
            if (Interlocked.CompareExchange(ref _armed, 0, 1) == 1)
            {
                _wake!();
            }
        }

        public bool TryArm()
        {
            if (framesWaiting())
            {
                return false;
            }

            Interlocked.Exchange(ref _armed, 1);
            return true;
        }
    }
}
