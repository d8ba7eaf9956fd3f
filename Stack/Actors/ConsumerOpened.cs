using Akka.Actor;

namespace Netmem.Stack.Actors;

/// <summary>The consumer actor started for <paramref name="Name"/>.</summary>
public sealed record ConsumerOpened(string Name, IActorRef Consumer);
