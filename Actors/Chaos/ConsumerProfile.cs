namespace Netmem.Chaos;

/// <summary>How long one application consumer holds each packet, and how many it may hold at once.</summary>
internal sealed record ConsumerProfile(TimeSpan HoldTime, int MaxHeld)
{
    private static readonly ConsumerProfile[] s_mix =
    [
        new(TimeSpan.Zero, 1),
        new(TimeSpan.FromMilliseconds(1), 64),
        new(TimeSpan.FromMilliseconds(5), 256),
        new(TimeSpan.FromMilliseconds(20), 512),
        new(TimeSpan.FromMilliseconds(100), 1024),
        new(TimeSpan.FromMilliseconds(500), 2048),
    ];

    /// <summary>The varied hold times of a chaos run: consumer <paramref name="index"/> takes the next in the mix.</summary>
    public static ConsumerProfile ForConsumer(int index) => s_mix[index % s_mix.Length];
}
