namespace Netmem.Driver;

/// <summary>The driver's self-message to try a ring refill again after the retry pipeline gave up.</summary>
internal sealed record RefillQueue(int Queue);
