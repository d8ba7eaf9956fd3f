using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Netmem.UringBench.Receivers;

/// <summary>
/// The loop a .NET user writes first: a dedicated thread, blocking <c>Socket.ReceiveFrom</c> into a buffer rented
/// from <c>ArrayPool&lt;byte&gt;.Shared</c> for each datagram and returned after it was read.
/// </summary>
internal sealed class SyncReceiveFromReceiver : IBenchReceiver
{
    private Socket? _socket;
    private Thread? _thread;
    private volatile bool _stopping;
    private long _delivered;
    private long _checksum;
    private LatencyLog? _latencies;

    public long Delivered => Volatile.Read(ref _delivered);

    public void Start(int port, int firstSourcePort, int flows, LatencyLog latencies)
    {
        _latencies = latencies;
        _socket = ReceiverSockets.OpenUdp(port);
        _socket.ReceiveTimeout = 100;
        _thread = new Thread(Loop) { IsBackground = true, Name = "receive-from" };
        _thread.Start();
    }

    public string Stop()
    {
        _stopping = true;
        _thread?.Join(TimeSpan.FromSeconds(5));
        return $"checksum {_checksum}";
    }

    public void Dispose() => _socket?.Dispose();

    private void Loop()
    {
        Socket socket = _socket!;
        EndPoint remote = new IPEndPoint(IPAddress.Any, 0);
        while (!_stopping)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(2048);
            try
            {
                int length = socket.ReceiveFrom(buffer, ref remote);
                _latencies!.Record(_delivered, buffer.AsSpan(0, length));
                _checksum += length > 0 ? buffer[0] : 0;
                Volatile.Write(ref _delivered, _delivered + 1);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock or SocketError.Interrupted)
            {
                // The timeout lets the loop see the stop flag.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }
}
