using Netmem.Uring.Interop;

namespace Netmem.Uring.Tests;

/// <summary>
/// The kernel's io_uring calls with chosen ones failed or held: a planned failure returns its errno without
/// entering the kernel (as ENOMEM or EAGAIN before the kernel consumed anything would), a held call waits inside
/// the seam until the spec lets it go. Every other call reaches the real kernel.
/// </summary>
internal sealed unsafe class FaultingSyscalls : IUringSyscalls
{
    private readonly Lock _lock = new();
    private readonly Dictionary<uint, (int Times, int Errno)> _registerFailures = new();
    private int _submitFailures;
    private int _submitErrno;
    private HeldCall? _heldSubmit;
    private (uint Opcode, HeldCall Call)? _heldRegister;

    /// <summary>Calls failed on purpose so far.</summary>
    public int Failed { get; private set; }

    /// <summary>Fails the next <paramref name="times"/> submitting enters (those with entries to submit).</summary>
    public void FailSubmits(int errno, int times = 1)
    {
        lock (_lock)
        {
            _submitFailures = times;
            _submitErrno = errno;
        }
    }

    /// <summary>Fails the next <paramref name="times"/> registers of <paramref name="opcode"/>.</summary>
    public void FailRegisters(uint opcode, int errno, int times = 1)
    {
        lock (_lock)
        {
            _registerFailures[opcode] = (times, errno);
        }
    }

    /// <summary>Holds the next submitting enter inside the seam, before the kernel sees it.</summary>
    public HeldCall HoldNextSubmit()
    {
        lock (_lock)
        {
            _heldSubmit = new HeldCall();
            return _heldSubmit;
        }
    }

    /// <summary>Holds the next register of <paramref name="opcode"/> inside the seam, before the kernel sees it.</summary>
    public HeldCall HoldNextRegister(uint opcode)
    {
        lock (_lock)
        {
            var call = new HeldCall();
            _heldRegister = (opcode, call);
            return call;
        }
    }

    public int Enter(int ringFd, uint toSubmit, uint minComplete, uint flags, void* argument, nuint argumentSize)
    {
        if (toSubmit > 0)
        {
            HeldCall? held;
            lock (_lock)
            {
                held = _heldSubmit;
                _heldSubmit = null;
                if (held is null && _submitFailures > 0)
                {
                    _submitFailures--;
                    Failed++;
                    return -_submitErrno;
                }
            }

            held?.HoldHere();
        }

        return KernelUringSyscalls.Instance.Enter(ringFd, toSubmit, minComplete, flags, argument, argumentSize);
    }

    public int Register(int ringFd, uint opcode, void* argument, uint count)
    {
        HeldCall? held = null;
        lock (_lock)
        {
            if (_heldRegister is { } h && h.Opcode == opcode)
            {
                held = h.Call;
                _heldRegister = null;
            }
            else if (_registerFailures.TryGetValue(opcode, out var failure) && failure.Times > 0)
            {
                _registerFailures[opcode] = (failure.Times - 1, failure.Errno);
                Failed++;
                return -failure.Errno;
            }
        }

        held?.HoldHere();
        return KernelUringSyscalls.Instance.Register(ringFd, opcode, argument, count);
    }

    /// <summary>One call held inside the seam: <see cref="Entered"/> once it is there, going on after <see cref="Release"/>.</summary>
    internal sealed class HeldCall
    {
        private readonly ManualResetEventSlim _entered = new();
        private readonly ManualResetEventSlim _released = new();

        public bool WaitEntered(TimeSpan timeout) => _entered.Wait(timeout);

        public void Release() => _released.Set();

        public void HoldHere()
        {
            _entered.Set();
            _released.Wait(TimeSpan.FromSeconds(60));
        }
    }
}
