using Netmem.Stack.Sockets;

namespace Netmem.Stack.Actors;

/// <summary>A consumer's own socket has packets to read (<paramref name="Open"/>) or was closed.</summary>
internal sealed record SocketReadable(SocketConsumer Socket, bool Open);
