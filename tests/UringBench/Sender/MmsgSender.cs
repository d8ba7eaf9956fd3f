using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Netmem.UringBench.Native;

namespace Netmem.UringBench.Sender;

/// <summary>
/// The load: UDP datagrams to 127.0.0.1 from a few flows (one socket each, fixed source ports so a receiver can name
/// the flows beforehand), 32 per sendmmsg call, paced per batch against the start (or unpaced), bounded in count and
/// time. The same sender feeds every receiver in a run.
/// </summary>
internal sealed unsafe class MmsgSender
{
    public const int Batch = 32;

    private readonly int _port;
    private readonly int _firstSourcePort;
    private readonly int _flows;
    private readonly int _payloadBytes;

    public MmsgSender(int port, int firstSourcePort, int flows, int payloadBytes)
    {
        _port = port;
        _firstSourcePort = firstSourcePort;
        _flows = flows;
        _payloadBytes = payloadBytes;
    }

    /// <summary>Sends <paramref name="count"/> datagrams at <paramref name="packetsPerSecond"/> (0: as fast as it can); returns how many went out and how long it took.</summary>
    public (long Sent, TimeSpan Elapsed) Send(long count, double packetsPerSecond, TimeSpan maxDuration)
    {
        var sockets = new Socket[_flows];
        nint memory = (nint)NativeMemory.AllocZeroed((nuint)(Batch * (_payloadBytes + sizeof(LibC.IoVector) + sizeof(LibC.MultiMessageHeader))) + (nuint)sizeof(LibC.SocketAddressV4));
        try
        {
            for (int f = 0; f < _flows; f++)
            {
                sockets[f] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                sockets[f].Bind(new IPEndPoint(IPAddress.Loopback, _firstSourcePort + f));
            }

            byte* payloads = (byte*)memory;
            var vectors = (LibC.IoVector*)(payloads + (Batch * _payloadBytes));
            var headers = (LibC.MultiMessageHeader*)(vectors + Batch);
            var target = (LibC.SocketAddressV4*)(headers + Batch);
            *target = new LibC.SocketAddressV4
            {
                Family = LibC.AfInet,
                PortBigEndian = BinaryPrimitives.ReverseEndianness((ushort)_port),
                AddressBigEndian = BinaryPrimitives.ReverseEndianness(0x7F00_0001u),
            };
            for (int i = 0; i < Batch; i++)
            {
                vectors[i] = new LibC.IoVector { Base = payloads + (i * _payloadBytes), Length = (nuint)_payloadBytes };
                headers[i] = new LibC.MultiMessageHeader { Name = target, NameLength = (uint)sizeof(LibC.SocketAddressV4), Vectors = vectors + i, VectorCount = 1 };
            }

            var clock = Stopwatch.StartNew();
            long sent = 0;
            int flow = 0;
            while (sent < count && clock.Elapsed < maxDuration)
            {
                int batch = (int)Math.Min(Batch, count - sent);
                if (packetsPerSecond > 0)
                {
                    PaceTo(sent / packetsPerSecond, clock);
                }

                // Bytes 0–7: the sequence number; 8–15: the send time (the receivers' latency reference, same clock).
                long now = Stopwatch.GetTimestamp();
                for (int i = 0; i < batch; i++)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(payloads + (i * _payloadBytes), 8), sent + i);
                    BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(payloads + (i * _payloadBytes) + 8, 8), now);
                }

                int result = LibC.sendmmsg((int)sockets[flow].Handle, headers, (uint)batch, 0);
                if (result < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno is 11 or 105)
                    {
                        // EAGAIN / ENOBUFS: the local queue is full for a moment; the batch is retried, not counted.
                        Thread.Yield();
                        continue;
                    }

                    throw new IOException($"Sending a batch of datagrams failed (errno {errno}).");
                }

                sent += result;
                flow = (flow + 1) % _flows;
            }

            return (sent, clock.Elapsed);
        }
        finally
        {
            foreach (Socket? socket in sockets)
            {
                socket?.Dispose();
            }

            NativeMemory.Free((void*)memory);
        }
    }

    private static void PaceTo(double dueSeconds, Stopwatch clock)
    {
        while (true)
        {
            double ahead = dueSeconds - clock.Elapsed.TotalSeconds;
            if (ahead <= 0)
            {
                return;
            }

            if (ahead > 0.002)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.SpinWait(32);
            }
        }
    }
}
