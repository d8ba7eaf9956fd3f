namespace Netmem.Chaos;

/// <summary>How a misbehaving consumer misuses a packet it is done with.</summary>
internal enum MisuseVariant
{
    /// <summary>Returns the page through its raw handle, then disposes the packet: a second return.</summary>
    DoubleReturn,

    /// <summary>Disposes the packet, then returns its page again through the raw handle.</summary>
    ReturnAfterDispose,

    /// <summary>Disposes the packet, then reads its page through the raw handle.</summary>
    ReadAfterDispose,
}
