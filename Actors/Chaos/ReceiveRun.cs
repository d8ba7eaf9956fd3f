using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Netmem.Actors.Devices;
using Netmem.Actors.Hosting;
using Netmem.Actors.Protocol;
using Netmem.Pool;
using Netmem.Stack.Actors;
using Netmem.Stack.Sockets;
using Netmem.Uring;

namespace Netmem.Chaos;

/// <summary>
/// The <c>receive</c> command's work: binds the real device (the kernel through io_uring) under the runtime, with one
/// consumer that takes every packet no other socket wants (the parsed frames of an interface, or the datagrams of a
/// UDP port, which the device declares as one flow's payloads) and releases it at once, reports a reading every
/// interval until stopped, then unbinds through the device supervisor and returns the unbind report.
/// </summary>
internal static class ReceiveRun
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);
    private static int s_runs;

    public static async Task<ReceiveResult> RunAsync(ReceiveSettings settings, IProgress<ReceiveProgress>? progress, CancellationToken stop)
    {
        var device = new UringDevice(new UringDeviceOptions { Source = settings.Source });
        var sockets = new List<SocketConsumer>();
        var consumer = new ConsumerSpec("receiver", [], 4096, ConsumerBehavior.ReleaseAtOnce with
        {
            OnSocketOpened = socket =>
            {
                lock (sockets)
                {
                    sockets.Add(socket);
                }
            },
        })
        {
            TakesUnmatchedFlows = true,
        };
        var deviceOptions = new DeviceOptions
        {
            Device = device,
            QueueCount = settings.Queues,
            PoolOptions = queue => new PagePoolOptions { Name = $"{device.Name}-rx{queue}" },
            BindOnStart = false,
        };

        // Signals are the command's (ChaosStop): the run unbinds itself before the actor system goes.
        using ActorSystem system = ActorSystem.Create($"receive-{Interlocked.Increment(ref s_runs)}", ConfigurationFactory.ParseString(
            "akka { loglevel = OFF, stdout-loglevel = OFF, log-dead-letters = off, log-dead-letters-during-shutdown = off, "
            + "coordinated-shutdown.run-by-clr-shutdown-hook = off }"));
        PagePoolRuntime runtime = PagePoolRuntime.Start(system, new PagePoolRuntimeOptions { Devices = [deviceOptions], Consumers = [consumer] });
        IActorRef supervisor = runtime.Devices[device.Name];
        var clock = Stopwatch.StartNew();
        ReceiveProgress Reading(string state, double rate, long inflight, long unbinds) => new(
            clock.Elapsed,
            state,
            rate,
            device.GetCounters().FramesReceived,
            SumOf(sockets, s => s.Delivered),
            Dropped(runtime.Demultiplexer, sockets),
            inflight,
            unbinds);

        try
        {
            try
            {
                await supervisor.Ask<Bound>(Bind.Instance, AskTimeout, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                return new ReceiveResult(device.Name, exception.Message, null, device.GetCounters(), Reading("not bound", 0, 0, 0));
            }

            IReadOnlyList<PagePool> pools = await runtime.PoolsOfAsync(device.Name, AskTimeout, CancellationToken.None).ConfigureAwait(false);
            long lastPackets = 0;
            TimeSpan lastAt = TimeSpan.Zero;
            using var ticks = new PeriodicTimer(Interval);
            try
            {
                while (await ticks.WaitForNextTickAsync(stop).ConfigureAwait(false))
                {
                    long packets = device.GetCounters().FramesReceived;
                    double rate = (packets - lastPackets) / Math.Max(1e-3, (clock.Elapsed - lastAt).TotalSeconds);
                    (lastPackets, lastAt) = (packets, clock.Elapsed);
                    progress?.Report(Reading("bound", rate, pools.Sum(p => p.Inflight), 0));
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }

            progress?.Report(Reading("unbinding", 0, pools.Sum(p => p.Inflight), 0));
            UnbindReport report = (await supervisor.Ask<Unbound>(Unbind.Instance, deviceOptions.MaxUnbindDuration + TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false)).Report;
            ReceiveProgress last = Reading("unbound", 0, pools.Sum(p => p.Inflight), 1);
            progress?.Report(last);
            return new ReceiveResult(device.Name, null, report, device.GetCounters(), last);
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        }
    }

    private static long SumOf(List<SocketConsumer> sockets, Func<SocketConsumer, long> counter)
    {
        lock (sockets)
        {
            return sockets.Sum(counter);
        }
    }

    private static Dictionary<string, long> Dropped(FlowDemultiplexer demultiplexer, List<SocketConsumer> sockets) => new()
    {
        ["not parsed"] = demultiplexer.DroppedNotParsed,
        ["no socket for the flow"] = demultiplexer.DroppedNoSocket,
        ["socket queue full"] = SumOf(sockets, s => s.DroppedQueueFull),
        ["socket closed"] = SumOf(sockets, s => s.DroppedClosed + s.DrainedAtClose),
    };
}
