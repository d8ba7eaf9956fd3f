namespace Netmem.Driver;

/// <summary>The driver's self-message that runs one NAPI poll of one RX queue.</summary>
internal sealed record PollQueue(int Queue);
