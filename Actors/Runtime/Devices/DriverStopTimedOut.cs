namespace Netmem.Actors.Devices;

/// <summary>The supervisor's timer: a driver told to stop after a quiesce timeout did not stop in time either.</summary>
internal sealed record DriverStopTimedOut(long UnbindId);
