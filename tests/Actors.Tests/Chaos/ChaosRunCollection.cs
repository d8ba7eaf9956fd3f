using Xunit;

namespace Netmem.Actors.Tests.Chaos;

/// <summary>
/// Chaos runs load both cores on purpose, so they run one at a time and apart from the other specs, whose timing
/// they would otherwise disturb.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosRunCollection
{
    public const string Name = "chaos runs";
}
