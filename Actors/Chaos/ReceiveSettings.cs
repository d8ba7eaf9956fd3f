using Netmem.Uring;

namespace Netmem.Chaos;

/// <summary>What the <c>receive</c> command binds: the real device's source, its RX queues, and plain output or not.</summary>
internal sealed record ReceiveSettings(UringSource Source, int Queues, bool Plain);
