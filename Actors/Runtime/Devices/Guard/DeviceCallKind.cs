namespace Netmem.Actors.Devices.Guard;

/// <summary>The kinds of call the runtime makes into a bound device.</summary>
internal enum DeviceCallKind
{
    Map,
    Unmap,
    SyncForDevice,
    SyncForCpu,
    PostPage,
    ReapFrames,
    CloseReceive,
    TearDown,
}
