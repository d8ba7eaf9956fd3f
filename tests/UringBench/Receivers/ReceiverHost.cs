using System.Diagnostics;
using Netmem.UringBench.Native;

namespace Netmem.UringBench.Receivers;

/// <summary>
/// The child-process side of one measurement. Protocol on stdin/stdout, one line each: the child prints READY once
/// its receiver is up; the parent writes GO just before it starts sending and STOP when it has sent everything; the
/// child then waits until the delivered count has not moved for 300 ms and prints RESULT. Before GO the parent
/// sends a warm-up (JIT tiering, pools and caches filled); what it delivered is not counted.
/// </summary>
/// <remarks>
/// <para>What is measured, and why this way: the receiver's own CPU time, user + system, of its whole process
/// (receive thread, runtime threads, GC, timers) from GO to the moment the last datagram was delivered — read with
/// getrusage on a 5 ms sampler thread, so the idle tail after the last datagram is not charged. The sender is another
/// process, so none of its CPU is in the figure. Steady-state allocation is the process's allocated bytes between the
/// samples where 10 % and 90 % of the final count had been delivered, divided by the packets in between: start-up
/// and tear-down allocations stay out. Latency: each datagram's read time minus the send timestamp in its payload,
/// recorded by the receiver into a preallocated <see cref="LatencyLog"/>; the percentiles cover the datagrams
/// delivered after GO.</para>
/// </remarks>
internal static class ReceiverHost
{
    private const int SampleMilliseconds = 5;

    // Room for the warm-up and the longest run at the sender's maximum (16 MiB of longs).
    private const int LatencyCapacity = 1 << 21;

    public static int Run(IBenchReceiver receiver, int port, int firstSourcePort, int flows)
    {
        using (receiver)
        {
            var latencies = new LatencyLog(LatencyCapacity);
            receiver.Start(port, firstSourcePort, flows, latencies);
            Console.WriteLine("READY");
            Expect("GO");
            long warmUp = receiver.Delivered;
            var samples = new List<(long Count, long Cpu, long System, long Allocated)>(4096);
            long cpu0 = LibC.ProcessCpuMicroseconds(out long system0);
            var stop = new ManualResetEventSlim();
            var sampler = new Thread(() =>
            {
                while (!stop.Wait(SampleMilliseconds))
                {
                    long count = receiver.Delivered - warmUp;
                    long cpu = LibC.ProcessCpuMicroseconds(out long system);
                    samples.Add((count, cpu, system, GC.GetTotalAllocatedBytes(false)));
                }
            })
            { IsBackground = true, Name = "sampler" };
            sampler.Start();
            Expect("STOP");
            var quiet = Stopwatch.StartNew();
            long last = receiver.Delivered;
            var bound = Stopwatch.StartNew();
            while (quiet.ElapsedMilliseconds < 300 && bound.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(20);
                long now = receiver.Delivered;
                if (now != last)
                {
                    (last, quiet) = (now, Stopwatch.StartNew());
                }
            }

            stop.Set();
            sampler.Join();
            string extra = receiver.Stop();
            long total = receiver.Delivered;
            long delivered = total - warmUp;
            (double p50, double p90, double p99, double max) = latencies.Percentiles(warmUp, total);
            (long Count, long Cpu, long System, long Allocated) done = samples.FirstOrDefault(s => s.Count >= delivered, samples.LastOrDefault());
            (long Count, long Cpu, long System, long Allocated) from = samples.FirstOrDefault(s => s.Count >= delivered / 10);
            (long Count, long Cpu, long System, long Allocated) to = samples.FirstOrDefault(s => s.Count >= delivered * 9 / 10);
            double allocatedPerPacket = to.Count > from.Count ? (double)(to.Allocated - from.Allocated) / (to.Count - from.Count) : double.NaN;
            Console.WriteLine(FormattableString.Invariant($"RESULT {delivered} {done.Cpu - cpu0} {done.System - system0} {allocatedPerPacket:F3} {p50:F3} {p90:F3} {p99:F3} {max:F3} {extra}"));
            return 0;
        }
    }

    private static void Expect(string word)
    {
        string? line = Console.ReadLine();
        if (line?.Trim() != word)
        {
            throw new InvalidOperationException($"The benchmark expected {word} from its parent and read '{line}'.");
        }
    }
}
