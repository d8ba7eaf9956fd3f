using Microsoft.Coyote.Specifications;
using Netmem.Actors.Devices.Guard;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// The runtime's <see cref="DeviceCallGuard"/> under systematic interleaving: callers enter and leave the device while
/// a supervisor revokes the guard, waits for <see cref="DeviceCallGuard.InFlight"/> to read 0 and tears the device
/// down at once. A call that runs after that teardown, a call still inside at it, or a call not counted exactly once
/// is a bug; so is a description of a running call that mixes two calls. A guard that checks the revoke before it
/// counts the caller (the obvious shortcut) must be found letting a call in after the teardown.
/// </summary>
[Collection(nameof(CoyoteCollection))]
public sealed class DeviceCallGuardModelChecks
{
    private const int Callers = 2;
    private const int CallsPerCaller = 2;

    [Fact]
    public void Calls_racing_a_revoke_and_drain_never_run_after_the_drain_and_each_is_counted_exactly_once() =>
        CoyoteHarness.AssertNoBugFound(() => RaceRevokeAndDrain(new RuntimeGuard(new DeviceCallGuard())), iterations: 1000);

    [Fact]
    public void A_guard_that_checks_the_revoke_before_it_counts_the_call_is_found_letting_a_call_run_after_the_drain()
    {
        var report = CoyoteHarness.Explore(() => RaceRevokeAndDrain(new CheckThenCountGuard()), iterations: 300);

        Assert.True(report.NumOfFoundBugs > 0, "Coyote did not find the call a check-then-count guard lets in after the drain.");
        Assert.Contains("after the drain", string.Join(Environment.NewLine, report.BugReports), StringComparison.Ordinal);
    }

    private static async Task RaceRevokeAndDrain(IGuardUnderCheck guard)
    {
        int inside = 0;
        int tornDown = 0;
        int entered = 0;
        int refused = 0;

        void Call(int caller, DeviceCallKind kind)
        {
            if (!guard.TryEnter(kind, caller, AddressOf(caller, kind), out int slot))
            {
                Interlocked.Increment(ref refused);
                return;
            }

            Interlocked.Increment(ref inside);
            Specification.Assert(Volatile.Read(ref tornDown) == 0, $"a {kind} call ran after the drain, on a torn-down device.");
            Interlocked.Increment(ref entered);
            Interlocked.Decrement(ref inside);
            guard.Exit(slot);
        }

        Task[] callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(() =>
        {
            for (int call = 0; call < CallsPerCaller; call++)
            {
                Call(caller, call % 2 == 0 ? DeviceCallKind.Map : DeviceCallKind.Unmap);
            }
        })).ToArray();

        // A receive side being closed: it enters even once revoked (its close must give the pages back), and is counted.
        Task closer = Task.Run(() => guard.Exit(guard.EnterAlways(DeviceCallKind.CloseReceive, Callers)));

        Task observer = Task.Run(() =>
        {
            for (int look = 0; look < 2; look++)
            {
                if (guard.OldestCall() is { } call)
                {
                    Specification.Assert(IsOneCall(call), $"the guard described a call that mixes two calls: {call}.");
                }
            }
        });

        Task supervisor = Task.Run(() =>
        {
            guard.Revoke();
            SpinWait spinner = default;
            while (guard.InFlight != 0)
            {
                spinner.SpinOnce();
            }

            Volatile.Write(ref tornDown, 1);
            Specification.Assert(Volatile.Read(ref inside) == 0, $"{Volatile.Read(ref inside)} call(s) inside the device when the drain read no call in flight.");
        });

        await Task.WhenAll([.. callers, closer, observer, supervisor]);

        Specification.Assert(guard.InFlight == 0, $"{guard.InFlight} call(s) still counted in flight after every call left.");
        Specification.Assert(entered + refused == Callers * CallsPerCaller, $"{entered} entered and {refused} refused of {Callers * CallsPerCaller} calls.");
        Specification.Assert(guard.RefusedAfterRevoke == refused, $"the guard counted {guard.RefusedAfterRevoke} refusals, the callers saw {refused}.");
        Specification.Assert(guard.OldestCall() is null, "a call is described as running after every call left.");
    }

    /// <summary>Every caller's call names the caller and the kind twice: in its queue and kind, and in its address.</summary>
    private static ulong AddressOf(int queue, DeviceCallKind kind) => ((ulong)(queue + 1) << 16) | (ulong)kind;

    /// <summary>Whether a description is of one call: a caller's (see <see cref="AddressOf"/>), or the closer's (no address).</summary>
    private static bool IsOneCall(DeviceCallInFlight call) => call.Kind == DeviceCallKind.CloseReceive
        ? call.Queue == Callers && call.Address == 0
        : call.Queue < Callers && call.Address == AddressOf(call.Queue, call.Kind);

    /// <summary>The guard's surface the scenario drives, so the real guard and a planted broken one run the same checks.</summary>
    private interface IGuardUnderCheck
    {
        int InFlight { get; }

        long RefusedAfterRevoke { get; }

        bool TryEnter(DeviceCallKind kind, int queue, ulong address, out int slot);

        int EnterAlways(DeviceCallKind kind, int queue);

        void Exit(int slot);

        void Revoke();

        DeviceCallInFlight? OldestCall();
    }

    private sealed class RuntimeGuard(DeviceCallGuard guard) : IGuardUnderCheck
    {
        public int InFlight => guard.InFlight;

        public long RefusedAfterRevoke => guard.RefusedAfterRevoke;

        public bool TryEnter(DeviceCallKind kind, int queue, ulong address, out int slot) => guard.TryEnter(kind, queue, address, out slot);

        public int EnterAlways(DeviceCallKind kind, int queue) => guard.EnterAlways(kind, queue);

        public void Exit(int slot) => guard.Exit(slot);

        public void Revoke() => guard.Revoke();

        public DeviceCallInFlight? OldestCall() => guard.OldestCall();
    }

    /// <summary>Broken: reads the revoked bit, then counts the caller, with no second look; it describes no call.</summary>
    private sealed class CheckThenCountGuard : IGuardUnderCheck
    {
        private const long RevokedBit = 1L << 62;

        private long _state;
        private long _refused;

        public int InFlight => (int)(Volatile.Read(ref _state) & ~RevokedBit);

        public long RefusedAfterRevoke => Interlocked.Read(ref _refused);

        public bool TryEnter(DeviceCallKind kind, int queue, ulong address, out int slot)
        {
            slot = -1;
            if ((Volatile.Read(ref _state) & RevokedBit) != 0)
            {
                Interlocked.Increment(ref _refused);
                return false;
            }

            Interlocked.Increment(ref _state);
            return true;
        }

        public int EnterAlways(DeviceCallKind kind, int queue)
        {
            Interlocked.Increment(ref _state);
            return -1;
        }

        public void Exit(int slot) => Interlocked.Decrement(ref _state);

        public void Revoke() => Interlocked.Or(ref _state, RevokedBit);

        public DeviceCallInFlight? OldestCall() => null;
    }
}
