namespace Netmem.Actors.Protocol;

/// <summary>Asks a device supervisor for its <see cref="DeviceStatus"/>.</summary>
public sealed record GetDeviceStatus
{
    public static readonly GetDeviceStatus Instance = new();

    private GetDeviceStatus()
    {
    }
}
