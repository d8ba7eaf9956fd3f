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
