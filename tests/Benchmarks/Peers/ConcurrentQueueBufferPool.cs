using System.Collections.Concurrent;

namespace Netmem.Benchmarks.Peers;

/// <summary>The plain pool every codebase has written once: a <see cref="ConcurrentQueue{T}"/> of 4 KiB arrays.</summary>
public sealed class ConcurrentQueueBufferPool
{
    private readonly ConcurrentQueue<byte[]> _buffers = new();
    private readonly int _bufferSize;

    public ConcurrentQueueBufferPool(int bufferSize, int prefill)
    {
        _bufferSize = bufferSize;
        for (int i = 0; i < prefill; i++)
        {
            _buffers.Enqueue(new byte[bufferSize]);
        }
    }

    public byte[] Rent() => _buffers.TryDequeue(out byte[]? buffer) ? buffer : new byte[_bufferSize];

    public void Return(byte[] buffer) => _buffers.Enqueue(buffer);
}
