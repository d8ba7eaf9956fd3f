using Netmem.Actors.Protocol;
using Netmem.Driver.Devices;

namespace Netmem.Actors.Devices;

// The device supervisor's messages to itself: timers and answers of work it runs off its thread.

/// <summary>The supervisor's timer: phase <paramref name="Phase"/> of unbind <paramref name="UnbindId"/> ran out of time.</summary>
internal sealed record PhaseTimedOut(long UnbindId, UnbindPhase Phase);


/// <summary>The supervisor's timer while starting: ask the stack for the RX queues again.</summary>
internal sealed record StackQueuesRetry
{
    public static readonly StackQueuesRetry Instance = new();

    private StackQueuesRetry()
    {
    }
}

/// <summary>The domain teardown of unbind <paramref name="UnbindId"/> returned <paramref name="Report"/>, or threw <paramref name="Failure"/>.</summary>
internal sealed record DeviceTornDown(long UnbindId, DeviceTeardownReport? Report, Exception? Failure);

/// <summary>
/// The supervisor's close of the receive sides in unbind <paramref name="UnbindId"/> returned: the pages it gave back
/// and each close that failed, in words.
/// </summary>
internal sealed record ReceiveSidesClosed(long UnbindId, long PagesReturned, IReadOnlyList<string> Failures);

/// <summary>The supervisor's timer while unbind <paramref name="UnbindId"/> waits for device calls to return.</summary>
internal sealed record CheckDeviceCalls(long UnbindId);
