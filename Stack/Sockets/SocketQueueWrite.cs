namespace Netmem.Stack.Sockets;

/// <summary>What became of a write to a <see cref="SocketQueue{T}"/>.</summary>
internal enum SocketQueueWrite
{
    /// <summary>The item is queued for the readers.</summary>
    Queued,

    /// <summary>Refused: the queue held its capacity; the item is still the writer's.</summary>
    Full,

    /// <summary>Refused: the queue was closed; the item is still the writer's.</summary>
    Closed,
}
