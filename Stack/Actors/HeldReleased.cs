namespace Netmem.Stack.Actors;

/// <summary>A consumer disposed <paramref name="Released"/> held packets, returning their pages.</summary>
public sealed record HeldReleased(string Consumer, int Released);
