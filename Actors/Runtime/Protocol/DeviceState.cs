namespace Netmem.Actors.Protocol;

/// <summary>Where a device supervisor is in the bind / unbind cycle.</summary>
public enum DeviceState
{
    /// <summary>Waiting for the stack to open the device's RX queues.</summary>
    Starting,

    /// <summary>No bind is in place: no pools, no driver; a <see cref="Bind"/> brings it up (again).</summary>
    Unbound,

    /// <summary>Bound: the pools are up and the driver is polling the RX queues.</summary>
    Bound,

    /// <summary>An unbind is under way (quiesce the driver, destroy the pools, tear the domain down); a <see cref="Bind"/> waits for it to end.</summary>
    Unbinding,
}
