using System.Collections.Concurrent;
using Netmem.Simulation.Traffic;

namespace Netmem.TestKit.Internal;

/// <summary>
/// The simulated device's wire, under the scenario's control: the frames the test injected, per RX queue, in order,
/// and nothing else (no rate, no background traffic). A frame waits on its queue until a driver asks for it, so
/// frames injected while no driver runs (unbound, or restarting after a crash) arrive when one does.
/// </summary>
internal sealed class InjectedWire(int queues)
{
    private readonly ConcurrentQueue<byte[]>[] _frames = Enumerable.Range(0, queues).Select(_ => new ConcurrentQueue<byte[]>()).ToArray();
    private readonly Action?[] _raise = new Action?[queues];

    public int QueueCount => _frames.Length;

    /// <summary>Frames injected and not yet taken by a driver.</summary>
    public int Waiting => _frames.Sum(q => q.Count);

    /// <summary>
    /// Puts a frame on the queue's wire, then raises the queue's interrupt: the enqueue is an interlocked operation,
    /// which orders the frame before the raise reads whether the driver armed (see <c>RxInterrupt</c>).
    /// </summary>
    public void Enqueue(int queue, byte[] frame)
    {
        _frames[queue].Enqueue(frame);
        Volatile.Read(ref _raise[queue])?.Invoke();
    }

    /// <summary>The source a driver incarnation reads queue <paramref name="queue"/> through.</summary>
    public ITrafficSource Open(int queue) => new Source(this, queue);

    private sealed class Source(InjectedWire wire, int queue) : ITrafficSource
    {
        private readonly ConcurrentQueue<byte[]> _queueFrames = wire._frames[queue];

        private bool _stopped;

        public bool TryReceive(Span<byte> destination, out int length)
        {
            length = 0;
            if (_stopped || !_queueFrames.TryPeek(out byte[]? frame))
            {
                return false;
            }

            if (frame.Length > destination.Length)
            {
                throw new InvalidOperationException($"An injected frame of {frame.Length} bytes does not fit a page of {destination.Length} bytes.");
            }

            _queueFrames.TryDequeue(out _);
            frame.CopyTo(destination);
            length = frame.Length;
            return true;
        }

        public void Stop() => _stopped = true;

        public bool ConnectInterrupt(Action raise)
        {
            Volatile.Write(ref wire._raise[queue], raise);
            return true;
        }

        public bool CheckArrival() => !_stopped && !_queueFrames.IsEmpty;
    }
}
