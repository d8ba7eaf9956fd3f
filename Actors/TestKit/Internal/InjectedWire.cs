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

    public int QueueCount => _frames.Length;

    /// <summary>Frames injected and not yet taken by a driver.</summary>
    public int Waiting => _frames.Sum(q => q.Count);

    public void Enqueue(int queue, byte[] frame) => _frames[queue].Enqueue(frame);

    /// <summary>The source a driver incarnation reads queue <paramref name="queue"/> through.</summary>
    public ITrafficSource Open(int queue) => new Source(_frames[queue]);

    private sealed class Source(ConcurrentQueue<byte[]> frames) : ITrafficSource
    {
        private bool _stopped;

        public bool TryReceive(Span<byte> destination, out int length)
        {
            length = 0;
            if (_stopped || !frames.TryPeek(out byte[]? frame))
            {
                return false;
            }

            if (frame.Length > destination.Length)
            {
                throw new InvalidOperationException($"An injected frame of {frame.Length} bytes does not fit a page of {destination.Length} bytes.");
            }

            frames.TryDequeue(out _);
            frame.CopyTo(destination);
            length = frame.Length;
            return true;
        }

        public void Stop() => _stopped = true;
    }
}
