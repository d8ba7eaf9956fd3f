namespace Netmem.Actors.Devices.Guard;

/// <summary>A call reached a device whose access the unbind had revoked; it was not made.</summary>
internal sealed class DeviceAccessRevokedException : Exception
{
    public DeviceAccessRevokedException(string device, DeviceCallKind kind)
        : base($"{device}: {kind} was not made: the device's access was revoked by its unbind.")
    {
    }
}
