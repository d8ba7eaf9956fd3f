namespace Netmem.Actors.Health;

/// <summary>What the <see cref="PagePoolHealthCheck"/> counts as a problem.</summary>
public sealed record PagePoolHealthCheckOptions
{
    /// <summary>How long a destroyed pool may wait for its pages before the runtime is reported degraded (1 s).</summary>
    public TimeSpan StalledPoolAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long each device supervisor has to answer its status; one that does not is reported unhealthy (2 s).</summary>
    public TimeSpan StatusTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Checks the options.</summary>
    /// <exception cref="ArgumentException">A duration is not positive.</exception>
    public void Validate()
    {
        if (StalledPoolAfter <= TimeSpan.Zero || StatusTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("The health check's StalledPoolAfter and StatusTimeout must be positive.");
        }
    }
}
