using Xunit;

namespace Netmem.Stack.Tests.Sockets;

/// <summary>
/// Specs that count this thread's allocations around code using process-wide free lists (the packet lease cells):
/// they run alone, so no other spec draining or flooding those lists at the same moment makes them allocate.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasuringCollection
{
    public const string Name = "allocation measuring";
}
