using Akka.Actor;
using Akka.Actor.Internal;

namespace Netmem.Stack.Actors;

/// <summary>
/// The <see cref="NetworkStackActor"/>'s supervision: a child that throws is restarted, one that cannot start is
/// stopped; a child may restart 10 times a minute, except a consumer, which may restart as often as its
/// <see cref="ConsumerBehavior.MaxRestartsPerMinute"/> says (null: always).
/// </summary>
/// <remarks>
/// Akka checks the restart budget in <see cref="OneForOneStrategy.ProcessFailure"/> with the child's own restart
/// statistics, so the per-consumer limit is applied there, from the limits the stack recorded as it opened each
/// consumer; every other child keeps the strategy's own limit.
/// </remarks>
internal sealed class ChildRestartStrategy : OneForOneStrategy
{
    private const int DefaultMaxRestarts = 10;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly IReadOnlyDictionary<IActorRef, int?> _consumerRestartLimits;
    private readonly Action<IActorRef, Exception> _onCannotStart;

    /// <param name="consumerRestartLimits">Each consumer's restart budget per minute (null: always restart).</param>
    /// <param name="onCannotStart">Told, on the parent's thread, which child could not start and why, before it is stopped.</param>
    public ChildRestartStrategy(IReadOnlyDictionary<IActorRef, int?> consumerRestartLimits, Action<IActorRef, Exception> onCannotStart)
        : base(DefaultMaxRestarts, Window, Decide)
    {
        _consumerRestartLimits = consumerRestartLimits;
        _onCannotStart = onCannotStart;
    }

    public override void ProcessFailure(IActorContext context, bool restart, IActorRef child, Exception cause, ChildRestartStats stats, IReadOnlyCollection<ChildRestartStats> children)
    {
        if (cause is ActorInitializationException { InnerException: { } why })
        {
            _onCannotStart(child, why);
        }

        if (!restart || !_consumerRestartLimits.TryGetValue(child, out int? limit))
        {
            base.ProcessFailure(context, restart, child, cause, stats, children);
            return;
        }

        if (limit is null || stats.RequestRestartPermission(limit.Value, (int)Window.TotalMilliseconds))
        {
            RestartChild(child, cause, suspendFirst: false);
        }
        else
        {
            context.Stop(child);
        }
    }

    private static Directive Decide(Exception exception)
    {
        if (exception is ActorInitializationException)
        {
            return Directive.Stop;
        }

        StackMetrics.RecordChildRestart();
        return Directive.Restart;
    }
}
