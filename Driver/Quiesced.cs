namespace Netmem.Driver;

/// <summary>The driver has stopped; <paramref name="RingPagesReturned"/> pages went back from its RX rings.</summary>
public sealed record Quiesced(string Device, long RingPagesReturned);
