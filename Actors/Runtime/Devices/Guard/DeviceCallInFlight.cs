namespace Netmem.Actors.Devices.Guard;

/// <summary>A device call still running: what it is, on which RX queue (-1: none), which address, and for how long.</summary>
internal sealed record DeviceCallInFlight(DeviceCallKind Kind, int Queue, ulong Address, TimeSpan RunningFor)
{
    public override string ToString() =>
        $"{Kind}{(Address != 0 ? $" of 0x{Address:x}" : "")}{(Queue >= 0 ? $" on rx{Queue}" : "")}, running for {RunningFor.TotalSeconds:0.0} s";
}
