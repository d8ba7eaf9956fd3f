using Netmem.Actors.Devices.Guard;
using Xunit;

namespace Netmem.Actors.Tests.Devices.Guard;

/// <summary>
/// The guard on real threads: many callers enter and leave while a supervisor revokes and drains at a different
/// point of each round, a closer enters regardless (as a receive side's close does), and an observer reads the
/// descriptions of running calls. Nothing here depends on how fast anything runs: the loops are bounded in count,
/// and the waits in time only as a guard against a hang.
/// </summary>
public sealed class DeviceCallGuardStressSpecs
{
    private const int Rounds = 12;
    private const int Callers = 6;
    private const int CallsPerCaller = 3_000;
    private const int Closes = 500;
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(60);

    [Fact]
    public void Once_a_revoke_and_drain_complete_no_call_is_inside_none_starts_and_every_call_was_counted_exactly_once()
    {
        for (int round = 0; round < Rounds; round++)
        {
            // The drain starts after a different number of entered calls each round, from the very first to most of them.
            RunRound(revokeAfterEntered: round * Callers * CallsPerCaller / (Rounds + 4));
        }
    }

    private static void RunRound(int revokeAfterEntered)
    {
        var guard = new DeviceCallGuard();
        var problems = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long[] entered = new long[Callers];
        long[] refused = new long[Callers];
        long enteredSoFar = 0;
        int inside = 0;
        int drained = 0;
        int running = Callers + 1;

        var callers = Enumerable.Range(0, Callers).Select(caller => new Thread(() =>
        {
            for (int call = 0; call < CallsPerCaller; call++)
            {
                DeviceCallKind kind = (DeviceCallKind)(call % 6);
                if (!guard.TryEnter(kind, caller, AddressOf(caller, kind), out int slot))
                {
                    refused[caller]++;
                    continue;
                }

                Interlocked.Increment(ref inside);
                if (Volatile.Read(ref drained) != 0)
                {
                    problems.Enqueue($"caller {caller} is inside the device ({kind}) after the drain completed");
                }

                entered[caller]++;
                Interlocked.Increment(ref enteredSoFar);
                if (call % 16 == 0)
                {
                    Thread.Yield();
                }

                Interlocked.Decrement(ref inside);
                guard.Exit(slot);
            }

            Interlocked.Decrement(ref running);
        })).ToList();

        var closer = new Thread(() =>
        {
            for (int close = 0; close < Closes; close++)
            {
                guard.Exit(guard.EnterAlways(DeviceCallKind.CloseReceive, Callers));
                Thread.Yield();
            }

            Interlocked.Decrement(ref running);
        });

        var observer = new Thread(() =>
        {
            while (Volatile.Read(ref running) > 0)
            {
                if (guard.OldestCall() is { } call && !IsOneCall(call))
                {
                    problems.Enqueue($"the guard described a call that mixes two calls: {call}");
                }
            }
        });

        var supervisor = new Thread(() =>
        {
            long deadline = Environment.TickCount64 + (long)HangLimit.TotalMilliseconds;
            while (Interlocked.Read(ref enteredSoFar) < revokeAfterEntered && Volatile.Read(ref running) > 0 && Environment.TickCount64 < deadline)
            {
                Thread.Yield();
            }

            guard.Revoke();
            SpinWait spinner = default;
            while (guard.InFlight != 0)
            {
                if (Environment.TickCount64 >= deadline)
                {
                    problems.Enqueue($"the drain never read 0 calls in flight ({guard.InFlight} after {HangLimit.TotalSeconds} s)");
                    return;
                }

                spinner.SpinOnce();
            }

            Volatile.Write(ref drained, 1);
            if (Volatile.Read(ref inside) != 0)
            {
                problems.Enqueue($"{Volatile.Read(ref inside)} call(s) inside the device when the drain read 0 in flight");
            }
        });

        Thread[] all = [.. callers, closer, observer, supervisor];
        Array.ForEach(all, thread => thread.Start());
        Assert.All(all, thread => Assert.True(thread.Join(HangLimit), "a thread of the round hung"));

        Assert.Empty(problems);
        Assert.Equal(1, Volatile.Read(ref drained));
        Assert.True(guard.IsRevoked);
        Assert.Equal(0, guard.InFlight);
        Assert.Equal(Callers * CallsPerCaller, entered.Sum() + refused.Sum());
        Assert.Equal(refused.Sum(), guard.RefusedAfterRevoke);
        Assert.Null(guard.OldestCall());
    }

    /// <summary>Every caller's call names the caller and the kind twice: in its queue and kind, and in its address.</summary>
    private static ulong AddressOf(int queue, DeviceCallKind kind) => ((ulong)(queue + 1) << 16) | (ulong)kind;

    /// <summary>Whether a description is of one call: a caller's (see <see cref="AddressOf"/>), or the closer's (no address).</summary>
    private static bool IsOneCall(DeviceCallInFlight call) => call.Kind == DeviceCallKind.CloseReceive
        ? call.Queue == Callers && call.Address == 0
        : call.Queue < Callers && call.Address == AddressOf(call.Queue, call.Kind);
}
