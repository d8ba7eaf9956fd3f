namespace Netmem.Stack.Actors;

/// <summary>Asks the <see cref="NetworkStackActor"/> to start a socket consumer; it replies <see cref="ConsumerOpened"/>.</summary>
public sealed record OpenConsumer(ConsumerSpec Spec);
