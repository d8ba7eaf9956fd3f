namespace Netmem.Driver.Devices;

/// <summary>A device could not be bound; the message says what is missing or refused, in words.</summary>
public sealed class DeviceBindException : Exception
{
    public DeviceBindException(string message)
        : base(message)
    {
    }

    public DeviceBindException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
