namespace Netmem.Uring.Interop;

/// <summary>
/// The io_uring system calls whose failure the device must survive: entering the kernel (submitting, waiting) and
/// registering (buffer tables, provided-buffer rings, their removal). Every ring calls the kernel through one of
/// these; the device's is <see cref="KernelUringSyscalls"/>, and specs put one in front of it that fails a chosen
/// call, so each failure path runs against the real kernel instead of being only read.
/// </summary>
internal unsafe interface IUringSyscalls
{
    /// <summary>io_uring_enter(2): the SQEs consumed, or −errno.</summary>
    int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize);

    /// <summary>io_uring_register(2): a non-negative result, or −errno.</summary>
    int Register(int ringFd, uint opcode, void* argument, uint count);
}

/// <summary>The kernel itself.</summary>
internal sealed unsafe class KernelUringSyscalls : IUringSyscalls
{
    public static readonly KernelUringSyscalls Instance = new();

    private KernelUringSyscalls()
    {
    }

    public int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize) =>
        LinuxSyscalls.IoUringEnter(ringFd, toSubmit, minComplete, flags, argument, argumentSize);

    public int Register(int ringFd, uint opcode, void* argument, uint count) =>
        LinuxSyscalls.IoUringRegister(ringFd, opcode, argument, count);
}
