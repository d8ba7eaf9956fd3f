using Akka.Actor;

namespace Netmem.Actors.Tests;

/// <summary>
/// A stand-in driver: what the supervisor sends it goes to a probe, and what the probe replies goes back to the
/// supervisor as if the driver had sent it. A test decides when (and whether) the driver answers.
/// </summary>
internal sealed class ProbeDriver : ReceiveActor
{
    public ProbeDriver(IActorRef probe) =>
        ReceiveAny(message =>
        {
            if (Sender.Equals(probe))
            {
                Context.Parent.Tell(message, Self);
            }
            else
            {
                probe.Tell(message, Self);
            }
        });

    public static Props Props(IActorRef probe) => Akka.Actor.Props.Create(() => new ProbeDriver(probe));
}
