using Akka.Actor;
using Netmem.Stack.Actors;

namespace Netmem.TestKit;

/// <summary>
/// A socket consumer actor the kit opened on the device's stack (a <see cref="SocketConsumerActor"/> with the
/// behaviour the test chose): it reads its flows' packets and holds or releases them.
/// </summary>
public sealed class ScenarioConsumer
{
    private readonly TimeSpan _patience;
    private int _crashOnNextPacket;

    internal ScenarioConsumer(string name, TimeSpan patience)
    {
        Name = name;
        _patience = patience;
    }

    /// <summary>The consumer's name, as its status and the kit's messages give it.</summary>
    public string Name { get; }

    /// <summary>The consumer actor (the stack supervises it: a crash restarts it and its held pages go back).</summary>
    public IActorRef Actor { get; internal set; } = ActorRefs.Nobody;

    /// <summary>The consumer's figures for its current incarnation: read, held, queued, delivered, dropped.</summary>
    public ConsumerStatus Status() => Actor.Ask<ConsumerStatus>(GetConsumerStatus.Instance, _patience).GetAwaiter().GetResult();

    /// <summary>
    /// Disposes every packet delivered to the consumer so far, those it holds and those still queued on its socket
    /// (read first, unless the consumer is stalled); their pages go back. Returns how many.
    /// </summary>
    public int ReleaseHeld() => Actor.Ask<HeldReleased>(Stack.Actors.ReleaseHeld.Instance, _patience).GetAwaiter().GetResult().Released;

    internal void CrashOnNextPacket() => Volatile.Write(ref _crashOnNextPacket, 1);

    /// <summary>The behaviour the consumer runs: the test's, with the kit's crash seam in front of its callback.</summary>
    internal ConsumerBehavior Wrap(ConsumerBehavior behavior) => behavior with
    {
        OnPacketRead = read =>
        {
            if (Interlocked.Exchange(ref _crashOnNextPacket, 0) == 1)
            {
                throw new Internal.InjectedFaultException($"consumer '{Name}' crashed on packet {read} (ScenarioFaults.CrashConsumerOnNextPacket).");
            }

            behavior.OnPacketRead?.Invoke(read);
        },
    };
}
