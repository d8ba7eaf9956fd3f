using Akka.Actor;
using Akka.Event;
using Netmem.Pool.Misuse;

namespace Netmem.Stack.Actors;

/// <summary>
/// Returns the pages of <see cref="RxBatch"/>es that never reached a stack actor: sent to one that had stopped, or
/// still in its mailbox when it stopped (Akka turns both into dead letters). A batch is an ownership transfer, so
/// without this its pages would be lent forever.
/// </summary>
/// <remarks>Start it as a system actor (<c>SystemActorOf</c>) so it outlives the user actors at shutdown.</remarks>
public sealed class UndeliveredBatchReclaimer : ReceiveActor
{
    private long _reclaimed;

    public UndeliveredBatchReclaimer()
    {
        Receive<AllDeadLetters>(letter => letter.Message is RxBatch, letter => Reclaim((RxBatch)letter.Message));
        Receive<AllDeadLetters>(_ => { });
        Receive<GetReclaimedCount>(_ => Sender.Tell(_reclaimed));
    }

    public static Props Props() => Akka.Actor.Props.Create<UndeliveredBatchReclaimer>();

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(AllDeadLetters));

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
    }
}
