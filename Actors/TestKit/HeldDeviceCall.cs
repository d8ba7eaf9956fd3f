namespace Netmem.TestKit;

/// <summary>
/// A device call a scenario holds inside the device (see <see cref="ScenarioFaults.HoldDriverInDeviceAtNextReap"/>):
/// the calling thread waits in the call until <see cref="Release"/> or <see cref="Dispose"/>.
/// </summary>
public sealed class HeldDeviceCall : IDisposable
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ManualResetEventSlim _released = new();

    internal HeldDeviceCall()
    {
    }

    /// <summary>Completes once a call is held inside the device.</summary>
    public Task Entered => _entered.Task;

    /// <summary>Lets the held call go on (and any call that takes the hold later pass at once).</summary>
    public void Release() => _released.Set();

    /// <summary>Releases the call, so a scenario that fails never leaves a thread stuck.</summary>
    public void Dispose() => Release();

    /// <summary>Called by the device call that takes the hold: says so, then waits for the release.</summary>
    internal void HoldHere()
    {
        _entered.TrySetResult();
        _released.Wait();
    }
}
