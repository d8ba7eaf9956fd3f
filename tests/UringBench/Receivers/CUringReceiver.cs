using System.Runtime.InteropServices;

namespace Netmem.UringBench.Receivers;

/// <summary>
/// The c-io_uring anchor: Native/c_uring_receiver.c (raw io_uring system calls, multishot receive, provided-buffer
/// ring), compiled by the parent with the machine's gcc into a shared library and run on a dedicated thread of this
/// receiver process, so the same harness (sampler, protocol, whole-process CPU) measures it as every other receiver.
/// </summary>
internal sealed unsafe class CUringReceiver(string libraryPath) : IBenchReceiver
{
    private nint _library;
    private Thread? _thread;
    private long* _shared;
    private int _port;
    private int _result;

    // _shared[0]: delivered (the C loop's release store); _shared[1]: ready flag (int); _shared[2]: failing step (int).
    public long Delivered => Volatile.Read(ref _shared[0]);

    public void Start(int port, int firstSourcePort, int flows, LatencyLog latencies)
    {
        _port = port;
        _library = NativeLibrary.Load(libraryPath);
        var receive = (delegate* unmanaged<int, long*, long*, long, int*, int*, int>)NativeLibrary.GetExport(_library, "bench_receive");
        _shared = (long*)NativeMemory.AllocZeroed(3 * sizeof(long));
        long* shared = _shared;
        long* ticks = (long*)Marshal.UnsafeAddrOfPinnedArrayElement(latencies.Ticks, 0);
        long capacity = latencies.Ticks.Length;
        _thread = new Thread(() => _result = receive(port, shared, ticks, capacity, (int*)(shared + 1), (int*)(shared + 2))) { IsBackground = true, Name = "c-io_uring" };
        _thread.Start();
        long deadline = Environment.TickCount64 + 10_000;
        while (Volatile.Read(ref *(int*)(shared + 1)) == 0)
        {
            if (!_thread.IsAlive)
            {
                throw new IOException($"The C receiver failed at step {*(int*)(shared + 2)} (errno {-_result}).");
            }

            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException("The C receiver did not arm its receive within 10 s.");
            }

            Thread.Sleep(1);
        }
    }

    public string Stop()
    {
        ReceiverSockets.SendStop(_port);
        if (!_thread!.Join(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("The C receiver did not stop within 10 s of its stop datagram.");
        }

        return _result == 0 ? string.Empty : $"failed at step {*(int*)(_shared + 2)} (errno {-_result})";
    }

    public void Dispose()
    {
        // The library stays loaded and the shared block stays allocated if the loop never stopped: it may still write them.
        if (_thread is { IsAlive: false })
        {
            NativeMemory.Free(_shared);
            NativeLibrary.Free(_library);
        }
    }
}
