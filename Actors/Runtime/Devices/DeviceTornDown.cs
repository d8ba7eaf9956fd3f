using Netmem.Driver.Devices;

namespace Netmem.Actors.Devices;

/// <summary>The domain teardown of unbind <paramref name="UnbindId"/> returned <paramref name="Report"/>, or threw <paramref name="Failure"/>.</summary>
internal sealed record DeviceTornDown(long UnbindId, DeviceTeardownReport? Report, Exception? Failure);
