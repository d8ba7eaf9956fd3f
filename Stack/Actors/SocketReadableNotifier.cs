using System.Threading.Channels;
using Akka.Actor;
using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>
/// Tells a consumer actor, once per <see cref="Arm"/>, that its socket has packets to read or was closed: what
/// <c>Reader.WaitToReadAsync().AsTask().PipeTo(Self, …)</c> does, without the task, the continuation closure and the
/// message that a pipe allocates on every wake-up.
/// </summary>
/// <remarks>
/// <para>How: the socket's queue answers a wait without a cancellation token from a waiter it reuses, as a
/// <see cref="ValueTask{TResult}"/> (<see cref="SocketQueueWaiter"/>); this registers one cached delegate on it,
/// consumes it exactly once (<c>GetResult</c>, which frees the waiter) and tells one of two cached messages. The
/// queue completes the wait on the thread pool, never inside a writer's <c>TryDeliver</c>, and nothing here
/// blocks.</para>
/// <para>Invariant: at most one wait is armed. The owning actor arms in <c>PreStart</c> and then only while handling
/// the message the previous wait told it, which was sent after that wait was consumed; so <see cref="_pending"/> is
/// written by the actor before the continuation is registered (the registration publishes it) and read once by that
/// continuation, and the next write happens after the mailbox hand-off that follows the read.</para>
/// </remarks>
internal sealed class SocketReadableNotifier
{
    private readonly ChannelReader<ReceivedPacket> _reader;
    private readonly IActorRef _actor;
    private readonly SocketReadable _readable;
    private readonly SocketReadable _closed;
    private readonly Action _onWaitCompleted;
    private ValueTask<bool> _pending;

    public SocketReadableNotifier(SocketConsumer socket, IActorRef actor)
    {
        _reader = socket.Reader;
        _actor = actor;
        _readable = new SocketReadable(socket, true);
        _closed = new SocketReadable(socket, false);
        _onWaitCompleted = OnWaitCompleted;
    }

    /// <summary>Starts one wait; the actor is told when it ends (at once if packets are already queued).</summary>
    public void Arm()
    {
        ValueTask<bool> wait = _reader.WaitToReadAsync();
        if (wait.IsCompleted)
        {
            Report(wait);
            return;
        }

        _pending = wait;
        wait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onWaitCompleted);
    }

    private void OnWaitCompleted()
    {
        ValueTask<bool> wait = _pending;
        _pending = default;
        Report(wait);
    }

    private void Report(ValueTask<bool> wait)
    {
        bool open;
        try
        {
            open = wait.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // The socket was closed with an error: for the consumer that is the same as closed.
            open = false;
        }

        _actor.Tell(open ? _readable : _closed);
    }
}
