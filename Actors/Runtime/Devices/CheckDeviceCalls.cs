namespace Netmem.Actors.Devices;

/// <summary>The supervisor's timer while unbind <paramref name="UnbindId"/> waits for device calls to return.</summary>
internal sealed record CheckDeviceCalls(long UnbindId);
