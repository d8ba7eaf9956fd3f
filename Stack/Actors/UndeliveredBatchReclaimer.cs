using Akka.Actor;
using Akka.Event;
using Netmem.Pool.Misuse;
using Netmem.Stack.Rx;

namespace Netmem.Stack.Actors;

/// <summary>
/// Returns the pages of <see cref="RxBatch"/>es that never reached a stack actor: sent to one that had stopped, or
/// still in its mailbox when it stopped (Akka turns both into dead letters). A batch is an ownership transfer, so
/// without this its pages would be lent forever.
/// </summary>
/// <remarks>Start it with <see cref="Start"/>: a system actor, so it outlives the user actors at shutdown.</remarks>
public sealed class UndeliveredBatchReclaimer : ReceiveActor
{
    private long _reclaimed;

    /// <summary>Called by Akka; start the reclaimer with <see cref="Start"/>, which also subscribes it to dead letters.</summary>
    public UndeliveredBatchReclaimer()
    {
        Receive<AllDeadLetters>(letter => letter.Message is RxBatch, letter => Reclaim((RxBatch)letter.Message));
        Receive<AllDeadLetters>(_ => { });
        Receive<GetReclaimedCount>(_ => Sender.Tell(_reclaimed));
    }

    /// <summary>
    /// Starts the reclaimer as a system actor, subscribed to dead letters before this returns.
    /// </summary>
    /// <remarks>
    /// Actor creation is asynchronous, so subscribing in <c>PreStart</c> would leave a window after start in which a
    /// batch could become a dead letter nobody reclaims. Subscribing here, from the caller's thread, closes it: any
    /// dead letter published after <see cref="Start"/> returns waits in the mailbox until the actor runs.
    /// </remarks>
    public static IActorRef Start(ActorSystem system, string name)
    {
        ArgumentNullException.ThrowIfNull(system);
        IActorRef reclaimer = ((ExtendedActorSystem)system).SystemActorOf(
            Akka.Actor.Props.Create<UndeliveredBatchReclaimer>(), name);
        system.EventStream.Subscribe(reclaimer, typeof(AllDeadLetters));
        return reclaimer;
    }

    /// <summary>Unsubscribes from dead letters.</summary>
    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);

    private void Reclaim(RxBatch batch)
    {
        foreach (RxFrame frame in batch.Frames)
        {
            try
            {
                frame.Netmem.ReturnToPool();
                _reclaimed++;
            }
            catch (NetmemMisuseException)
            {
                // Already returned by someone else: not ours; the pool is left intact.
            }
        }

        // Not recycled: the dead letter may still be referenced (Akka's dead-letter log holds it), so the batch must
        // never be refilled; its pool only learns that this lending is over, which lets a waiting driver go on.
        batch.Abandon();
    }
}
