using Akka;
using Akka.Actor;
using Netmem.Actors.Hosting;
using Netmem.Stack.Actors;

namespace Netmem.Chaos;

/// <summary>
/// The run's "received": frames the stack's RX queues took from the drivers and handed to the demultiplexer, asked
/// of each stack queue (<see cref="GetStackQueueStatus"/>) through the runtime's stack.
/// </summary>
/// <remarks>
/// The last count must be taken after every device unbound (no driver sends any more) and the stack drained its
/// queues, yet before the actor system stops the stack: so it is a CoordinatedShutdown task of its own, in the phase
/// that follows the runtime's unbind-and-drain task.
/// </remarks>
internal sealed class StackFrameCounter
{
    private readonly PagePoolRuntime _runtime;
    private readonly IReadOnlyList<(string Device, int Queues)> _devices;
    private readonly TimeSpan _timeout;
    private long _received;

    public StackFrameCounter(PagePoolRuntime runtime, ActorSystem system, IReadOnlyList<(string Device, int Queues)> devices, TimeSpan timeout)
    {
        _runtime = runtime;
        _devices = devices;
        _timeout = timeout;
        CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "chaos-count-stack-frames", async () =>
        {
            try
            {
                await RefreshAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is AskTimeoutException or TaskCanceledException)
            {
                Failure = exception.Message;
            }

            return Done.Instance;
        });
    }

    /// <summary>The frames counted at the last refresh.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Why the last count at shutdown could not be taken, or null.</summary>
    public string? Failure { get; private set; }

    public async Task RefreshAsync()
    {
        long frames = 0;
        foreach ((string device, int queues) in _devices)
        {
            RxQueuesOpened opened = await _runtime.Stack.Ask<RxQueuesOpened>(new OpenRxQueues(device, queues), _timeout).ConfigureAwait(false);
            StackQueueStatus[] statuses = await Task.WhenAll(opened.Queues.Select(q => q.Ask<StackQueueStatus>(GetStackQueueStatus.Instance, _timeout))).ConfigureAwait(false);
            frames += statuses.Sum(s => s.Frames);
        }

        Interlocked.Exchange(ref _received, frames);
    }
}
