using Netmem.Pool;

namespace Netmem.TestKit;

/// <summary>
/// A span of a scenario in which no page may leak (Netty's leak-presence idea): every page lent out of the device's
/// pools after <see cref="DeviceUnderTest.BeginLeakScope"/> must be back, or on an RX ring, by
/// <see cref="AssertNoPageLeaked"/>. Pages already out when the scope began are not its business.
/// </summary>
public sealed class LeakScope
{
    private readonly DeviceUnderTest _device;
    private readonly HashSet<NetmemRef> _outAtStart;

    internal LeakScope(DeviceUnderTest device, HashSet<NetmemRef> outAtStart)
    {
        _device = device;
        _outAtStart = outAtStart;
    }

    /// <summary>
    /// Waits up to the device's settle time for the pages lent during the scope to come back, and fails with each
    /// one still out, its pool and (when capture is on) where it was allocated.
    /// </summary>
    /// <exception cref="ScenarioAssertionException">A page lent during the scope is still held outside the rings.</exception>
    public void AssertNoPageLeaked() => _device.AssertNoPageLeakedSince(_outAtStart, "since the leak scope began");
}
