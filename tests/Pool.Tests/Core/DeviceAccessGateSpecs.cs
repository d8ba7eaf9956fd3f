using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

public sealed class DeviceAccessGateSpecs
{
    [Fact]
    public void An_open_gate_admits_and_a_closed_gate_refuses()
    {
        var gate = new DeviceAccessGate();

        Assert.True(gate.TryEnter());
        gate.Exit();
        Assert.False(gate.IsClosed);
        gate.CloseAndWait();

        Assert.True(gate.IsClosed);
        Assert.False(gate.TryEnter());
        Assert.False(gate.TryEnter());
    }

    [Fact]
    public void The_walker_is_admitted_behind_the_closed_gate_and_counted_until_access_is_revoked()
    {
        var gate = new DeviceAccessGate();
        gate.CloseAndWait();

        Assert.True(gate.TryEnterAsWalker());
        Assert.Equal(1, gate.Admitted);
        gate.Revoke();
        Assert.True(gate.IsRevoked);
        Assert.False(gate.TryEnterAsWalker());
        Assert.False(gate.TryEnter());
        Assert.Equal(1, gate.Admitted);
        gate.Exit();
        Assert.Equal(0, gate.Admitted);
        gate.Revoke();
        Assert.False(gate.TryEnterAsWalker());
        Assert.Equal(0, gate.Admitted);
    }

    [Fact]
    public void Revoking_an_open_gate_refuses_everybody_without_waiting_for_those_inside()
    {
        var gate = new DeviceAccessGate();
        Assert.True(gate.TryEnter());
        Assert.True(gate.TryEnter());

        gate.Revoke();

        Assert.Equal(2, gate.Admitted);
        Assert.False(gate.IsClosed);
        Assert.False(gate.TryEnter());
        Assert.False(gate.TryEnterAsWalker());
        gate.Exit();
        gate.Exit();
        Assert.Equal(0, gate.Admitted);
        gate.CloseAndWait();
        Assert.False(gate.TryEnterAsWalker());
    }

    /// <summary>
    /// Entrants hammer the gate while it is revoked: a watcher that samples the admitted count after the revocation
    /// must never see it rise, and once it reads 0 nobody may be inside or get in.
    /// </summary>
    [Fact]
    public void Under_stress_the_admitted_count_only_goes_down_after_revocation_and_zero_means_nobody_inside()
    {
        for (int round = 0; round < 40; round++)
        {
            var gate = new DeviceAccessGate();
            int inside = 0;
            int stop = 0;
            int insideAfterZero = 0;
            int zeroSeen = 0;
            Thread[] entrants = Enumerable.Range(0, 2).Select(e => new Thread(() =>
            {
                while (Volatile.Read(ref stop) == 0)
                {
                    if (!(e == 0 ? gate.TryEnter() : gate.TryEnterAsWalker()))
                    {
                        Thread.Yield();
                        continue;
                    }

                    Interlocked.Increment(ref inside);
                    if (Volatile.Read(ref zeroSeen) == 1)
                    {
                        Interlocked.Increment(ref insideAfterZero);
                    }

                    Thread.SpinWait(20);
                    Interlocked.Decrement(ref inside);
                    gate.Exit();
                }
            })).ToArray();
            Array.ForEach(entrants, t => t.Start());
            Thread.SpinWait(200 * (round % 8));
            if (round % 2 == 0)
            {
                gate.CloseAndWait();
            }

            gate.Revoke();
            int last = gate.Admitted;
            int rises = 0;
            SpinWait spinner = default;
            while (last != 0)
            {
                spinner.SpinOnce();
                int now = gate.Admitted;
                rises += now > last ? 1 : 0;
                last = now;
            }

            Volatile.Write(ref zeroSeen, 1);
            int insideAtZero = Volatile.Read(ref inside);
            Thread.SpinWait(500);
            Volatile.Write(ref stop, 1);
            Array.ForEach(entrants, t => t.Join());

            Assert.Equal(0, rises);
            Assert.Equal(0, insideAtZero);
            Assert.Equal(0, Volatile.Read(ref insideAfterZero));
        }
    }

    [Fact]
    public async Task Closing_waits_for_the_thread_inside_to_leave()
    {
        var gate = new DeviceAccessGate();
        Assert.True(gate.TryEnter());
        int left = 0;

        Task closing = Task.Run(() =>
        {
            gate.CloseAndWait();
            return Volatile.Read(ref left);
        });
        Assert.True(SpinWait.SpinUntil(() => gate.IsClosed, TimeSpan.FromSeconds(10)));
        Assert.False(closing.IsCompleted);
        Assert.False(gate.TryEnter());
        Volatile.Write(ref left, 1);
        gate.Exit();

        Assert.Equal(1, await ((Task<int>)closing).WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Under_stress_no_entrant_is_inside_once_close_returns_and_none_gets_in_after()
    {
        for (int round = 0; round < 200; round++)
        {
            var gate = new DeviceAccessGate();
            int inside = 0;
            int closed = 0;
            int enteredAfterClose = 0;
            long entries = 0;
            Thread[] entrants = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                while (true)
                {
                    bool closedBefore = Volatile.Read(ref closed) == 1;
                    if (!gate.TryEnter())
                    {
                        if (closedBefore)
                        {
                            return;
                        }

                        Thread.Yield();
                        continue;
                    }

                    if (closedBefore)
                    {
                        Interlocked.Increment(ref enteredAfterClose);
                    }

                    Interlocked.Increment(ref inside);
                    Interlocked.Increment(ref entries);
                    Interlocked.Decrement(ref inside);
                    gate.Exit();
                }
            })).ToArray();
            foreach (Thread entrant in entrants)
            {
                entrant.Start();
            }

            SpinWait.SpinUntil(() => Interlocked.Read(ref entries) > 20 * (round % 4), TimeSpan.FromSeconds(10));
            gate.CloseAndWait();
            int insideAtClose = Volatile.Read(ref inside);
            Volatile.Write(ref closed, 1);
            foreach (Thread entrant in entrants)
            {
                entrant.Join();
            }

            Assert.Equal(0, insideAtClose);
            Assert.Equal(0, Volatile.Read(ref enteredAfterClose));
            Assert.Equal(0, Volatile.Read(ref inside));
        }
    }
}
