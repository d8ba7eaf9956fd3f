using System.Runtime.InteropServices;

namespace Netmem.Uring.Interop;

/// <summary>
/// A file descriptor the device owns (a socket). A call that passes it to the kernel holds a reference
/// (DangerousAddRef) across the call, so a concurrent close only marks it closed and the descriptor is closed by the
/// last call out: the kernel never sees a closed number, or one that a new file reused.
/// </summary>
internal sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    /// <summary>The descriptor; valid only while a reference is held or the handle is not closed.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => LinuxSyscalls.Close((int)handle) == 0;
}

/// <summary>
/// An io_uring instance: its fd and the three mappings of its rings. Released only when the last call that holds a
/// reference returns: then the rings are unmapped and the fd closed, in that order (a mapping keeps the ring's
/// memory alive on its own, but nothing may read it after the handle said it is closed).
/// </summary>
internal sealed class RingHandle : SafeHandle
{
    private readonly List<(nint Address, nuint Length)> _mappings = new(3);

    public RingHandle(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle == -1;

    public int Fd => (int)handle;

    /// <summary>Records a mapping of this ring, unmapped on release. Only while the ring is being set up.</summary>
    public void AddMapping(nint address, nuint length) => _mappings.Add((address, length));

    protected override bool ReleaseHandle()
    {
        foreach ((nint address, nuint length) in _mappings)
        {
            LinuxSyscalls.Unmap(address, length);
        }

        _mappings.Clear();
        return LinuxSyscalls.Close((int)handle) == 0;
    }
}
