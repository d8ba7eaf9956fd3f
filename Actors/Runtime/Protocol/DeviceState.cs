namespace Netmem.Actors.Protocol;

/// <summary>Where a device supervisor is in the bind / unbind cycle.</summary>
public enum DeviceState
{
    /// <summary>Waiting for the stack to open the device's RX queues.</summary>
    Starting,

    Unbound,

    Bound,

    Unbinding,
}
