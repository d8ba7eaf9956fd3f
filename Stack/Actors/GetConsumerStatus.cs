namespace Netmem.Stack.Actors;

/// <summary>Asks a consumer for its <see cref="ConsumerStatus"/>.</summary>
public sealed record GetConsumerStatus
{
    public static readonly GetConsumerStatus Instance = new();

    private GetConsumerStatus()
    {
    }
}
