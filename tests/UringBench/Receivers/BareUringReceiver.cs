using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using static Netmem.UringBench.Native.UringInterop;

namespace Netmem.UringBench.Receivers;

/// <summary>
/// The bare-io_uring anchor: the device's receive mechanism with no runtime around it, in C#. One UDP socket, one
/// multishot IORING_OP_RECV drawing from a provided-buffer ring of 4096 × 2 KiB buffers, a dedicated thread waiting in
/// io_uring_enter; each completion's buffer is read (its send timestamp) and handed straight back to the ring. No
/// pool, no parse, no actor: the floor for what the device's path can cost in .NET. Stops on a datagram shorter than
/// 16 bytes, which only <see cref="Stop"/> sends.
/// </summary>
internal sealed unsafe class BareUringReceiver : IBenchReceiver
{
    private const int Entries = 4096;
    private const int BufferBytes = 2048;
    private const ushort Group = 1;

    private Socket? _socket;
    private Thread? _thread;
    private LatencyLog? _latencies;
    private int _port;
    private int _ring = -1;
    private long _delivered;
    private Exception? _failure;

    private byte* _sq;
    private byte* _cq;
    private Sqe* _sqes;
    private Buf* _buffers;
    private byte* _memory;
    private Params _params;

    public long Delivered => Volatile.Read(ref _delivered);

    public void Start(int port, int firstSourcePort, int flows, LatencyLog latencies)
    {
        _port = port;
        _latencies = latencies;
        _socket = ReceiverSockets.OpenUdp(port);
        Setup();
        _thread = new Thread(Loop) { IsBackground = true, Name = "bare-io_uring" };
        _thread.Start();
    }

    public string Stop()
    {
        ReceiverSockets.SendStop(_port);
        if (!_thread!.Join(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("The bare io_uring loop did not stop within 10 s of its stop datagram.");
        }

        return _failure is null ? string.Empty : $"failed: {_failure.Message}";
    }

    public void Dispose()
    {
        if (_ring >= 0)
        {
            _ = Close(_ring);
        }

        _socket?.Dispose();
        if (_memory is not null)
        {
            _ = Munmap((nint)_memory, (nuint)(Entries * BufferBytes));
            _ = Munmap((nint)_buffers, (nuint)(Entries * sizeof(Buf)));
        }
    }

    private static nint Check(nint result, string what) =>
        result < 0 ? throw new IOException($"{what} failed (errno {Marshal.GetLastPInvokeError()}).") : result;

    private void Setup()
    {
        Params p = default;
        p.Flags = SetupCqSize;
        p.CqEntries = 2 * Entries;
        _ring = (int)Check((nint)Syscall(SysSetup, 8, (nint)(&p), 0, 0, 0, 0), "io_uring_setup");
        _params = p;
        _sq = (byte*)Check(Mmap(0, p.SqOff.Array + (p.SqEntries * 4), ProtReadWrite, MapShared | MapPopulate, _ring, OffSqRing), "Mapping the submission ring");
        _cq = (byte*)Check(Mmap(0, p.CqOff.Cqes + (p.CqEntries * (nuint)sizeof(Cqe)), ProtReadWrite, MapShared | MapPopulate, _ring, OffCqRing), "Mapping the completion ring");
        _sqes = (Sqe*)Check(Mmap(0, p.SqEntries * (nuint)sizeof(Sqe), ProtReadWrite, MapShared | MapPopulate, _ring, OffSqes), "Mapping the submission entries");
        _buffers = (Buf*)Check(Mmap(0, (nuint)(Entries * sizeof(Buf)), ProtReadWrite, MapPrivate | MapAnonymous | MapPopulate, -1, 0), "Mapping the buffer ring");
        _memory = (byte*)Check(Mmap(0, Entries * BufferBytes, ProtReadWrite, MapPrivate | MapAnonymous | MapPopulate, -1, 0), "Mapping the buffers");
        BufReg registration = default;
        registration.RingAddr = (ulong)_buffers;
        registration.RingEntries = Entries;
        registration.Bgid = Group;
        _ = Check((nint)Syscall(SysRegister, _ring, (nint)RegisterPbufRing, (nint)(&registration), 1, 0, 0), "Registering the provided-buffer ring");
        for (int i = 0; i < Entries; i++)
        {
            _buffers[i].Addr = (ulong)(_memory + ((long)i * BufferBytes));
            _buffers[i].Len = BufferBytes;
            _buffers[i].Bid = (ushort)i;
        }

        // The ring's tail lives in the first entry's last two bytes; the kernel reads it with acquire semantics.
        Volatile.Write(ref _buffers[0].Resv, Entries);

        // Armed before READY, so no datagram of the run can arrive before the receive.
        ArmReceive();
        _ = Check((nint)Syscall(SysEnter, _ring, 1, 0, 0, 0, 0), "Submitting the receive");
    }

    /// <summary>
    /// One multishot receive: it stays armed, posting a completion per datagram, until the kernel ends it (a
    /// completion without CQE_F_MORE, e.g. when the buffer ring ran empty); the loop then arms it again.
    /// </summary>
    private void ArmReceive()
    {
        uint* tail = (uint*)(_sq + _params.SqOff.Tail);
        uint mask = *(uint*)(_sq + _params.SqOff.RingMask);
        uint index = *tail & mask;
        Sqe* sqe = _sqes + index;
        *sqe = default;
        sqe->Opcode = OpRecv;
        sqe->Fd = (int)_socket!.Handle;
        sqe->IoPrio = RecvMultishot;
        sqe->Flags = SqeBufferSelect;
        sqe->BufGroup = Group;
        ((uint*)(_sq + _params.SqOff.Array))[index] = index;
        Volatile.Write(ref *tail, *tail + 1);
    }

    private void Loop()
    {
        try
        {
            uint* cqHead = (uint*)(_cq + _params.CqOff.Head);
            uint* cqTail = (uint*)(_cq + _params.CqOff.Tail);
            uint cqMask = *(uint*)(_cq + _params.CqOff.RingMask);
            var cqes = (Cqe*)(_cq + _params.CqOff.Cqes);
            ushort bufferTail = Entries;
            long count = 0;
            int toSubmit = 0;
            bool arm = false;
            bool stopping = false;
            while (!stopping)
            {
                if (arm)
                {
                    ArmReceive();
                    (toSubmit, arm) = (1, false);
                }

                if (Syscall(SysEnter, _ring, toSubmit, 1, (nint)EnterGetEvents, 0, 0) < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != Eintr)
                    {
                        throw new IOException($"Waiting for completions failed (errno {errno}).");
                    }

                    continue;
                }

                toSubmit = 0;
                uint head = *cqHead;
                uint available = Volatile.Read(ref *cqTail);
                for (; head != available; head++)
                {
                    Cqe cqe = cqes[head & cqMask];
                    arm |= (cqe.Flags & CqeFMore) == 0;
                    if (cqe.Res < 0)
                    {
                        if (cqe.Res != -Enobufs)
                        {
                            throw new IOException($"The multishot receive failed (errno {-cqe.Res}).");
                        }

                        continue;
                    }

                    if ((cqe.Flags & CqeFBuffer) == 0)
                    {
                        continue;
                    }

                    ushort bid = (ushort)(cqe.Flags >> CqeBufferShift);
                    byte* data = _memory + ((long)bid * BufferBytes);
                    if (cqe.Res < 16)
                    {
                        stopping = true;
                    }
                    else
                    {
                        _latencies!.Record(count, new ReadOnlySpan<byte>(data, cqe.Res));
                        count++;
                        Volatile.Write(ref _delivered, count);
                    }

                    // The buffer goes straight back to the kernel: it was only read above. Field by field: entry 0's
                    // Resv is the ring's tail and must not be overwritten.
                    Buf* slot = _buffers + (bufferTail & (Entries - 1));
                    slot->Addr = (ulong)data;
                    slot->Len = BufferBytes;
                    slot->Bid = bid;
                    bufferTail++;
                }

                // Publish the returned buffers before freeing the completion slots (release stores, as the kernel reads them with acquire).
                Volatile.Write(ref _buffers[0].Resv, bufferTail);
                Volatile.Write(ref *cqHead, head);
            }
        }
        catch (IOException e)
        {
            _failure = e;
        }
    }
}
