namespace Netmem.Actors.Protocol;

/// <summary>
/// The device is unbound: when this is sent, no pool of the device will ever call the device again, and every
/// page the device's pools lent was unmapped or reclaimed (or the report says which phase failed to make it so).
/// </summary>
public sealed record Unbound(UnbindReport Report);
