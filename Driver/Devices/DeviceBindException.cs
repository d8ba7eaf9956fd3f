namespace Netmem.Driver.Devices;

/// <summary>A device could not be bound; the message says what is missing or refused, in words.</summary>
public sealed class DeviceBindException : Exception
{
    /// <summary>A bind failure; <paramref name="message"/> says what was missing or refused.</summary>
    public DeviceBindException(string message)
        : base(message)
    {
    }

    /// <summary>A bind failure caused by <paramref name="innerException"/> (e.g. the device's own error); <paramref name="message"/> says what was being bound.</summary>
    public DeviceBindException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
