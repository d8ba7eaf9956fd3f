using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace Netmem.UringBench.Receivers;

/// <summary>
/// The allocation-conscious .NET loop: one reused <c>SocketAsyncEventArgs</c> with a buffer from
/// <c>ArrayPool&lt;byte&gt;.Shared</c>, <c>ReceiveFromAsync</c> continued synchronously while data is already there
/// and from the completion callback (the runtime's epoll thread) when it is not.
/// </summary>
internal sealed class AsyncSaeaReceiver : IBenchReceiver
{
    private readonly SocketAsyncEventArgs _args = new();
    private Socket? _socket;
    private byte[]? _buffer;
    private volatile bool _stopping;
    private long _delivered;
    private long _checksum;
    private LatencyLog? _latencies;

    public long Delivered => Volatile.Read(ref _delivered);

    public void Start(int port, int firstSourcePort, int flows, LatencyLog latencies)
    {
        _latencies = latencies;
        _socket = ReceiverSockets.OpenUdp(port);
        _buffer = ArrayPool<byte>.Shared.Rent(2048);
        _args.SetBuffer(_buffer, 0, _buffer.Length);
        _args.RemoteEndPoint = new IPEndPoint(IPAddress.Any, 0);
        _args.Completed += (_, args) =>
        {
            if (Consume(args))
            {
                ReceiveLoop();
            }
        };
        ReceiveLoop();
    }

    public string Stop()
    {
        _stopping = true;
        return $"checksum {_checksum}";
    }

    public void Dispose()
    {
        _stopping = true;
        _socket?.Dispose();
        _args.Dispose();
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }
    }

    private void ReceiveLoop()
    {
        try
        {
            // Completed synchronously (false) means data was already queued: consume it and go on without a callback.
            while (!_stopping && !_socket!.ReceiveFromAsync(_args))
            {
                if (!Consume(_args))
                {
                    return;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private bool Consume(SocketAsyncEventArgs args)
    {
        if (args.SocketError != SocketError.Success)
        {
            return false;
        }

        _latencies!.Record(_delivered, args.Buffer.AsSpan(0, args.BytesTransferred));
        _checksum += args.BytesTransferred > 0 ? args.Buffer![0] : 0;
        Volatile.Write(ref _delivered, _delivered + 1);
        return !_stopping;
    }
}
