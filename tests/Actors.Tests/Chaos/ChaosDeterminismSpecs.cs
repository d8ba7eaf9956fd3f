using Netmem.Chaos;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

[Collection(ChaosRunCollection.Name)]
public sealed class ChaosDeterminismSpecs
{
    [Fact]
    public async Task Two_runs_with_one_seed_inject_the_same_faults_on_the_same_operations()
    {
        ChaosReport first = await ChaosRunner.RunAsync(ChaosTestRuns.Short(99));
        ChaosReport second = await ChaosRunner.RunAsync(ChaosTestRuns.Short(99));

        IReadOnlyList<InjectedFault> firstFaults = ChaosTestRuns.OnOperationsBothReached(first, second);
        IReadOnlyList<InjectedFault> secondFaults = ChaosTestRuns.OnOperationsBothReached(second, first);
        Assert.True(firstFaults.Count > 50, $"only {firstFaults.Count} faults on common operations: too few to compare");
        Assert.Equal(firstFaults, secondFaults);
    }

    [Fact]
    public async Task Another_seed_injects_other_faults()
    {
        ChaosReport first = await ChaosRunner.RunAsync(ChaosTestRuns.Short(99, seconds: 1));
        ChaosReport other = await ChaosRunner.RunAsync(ChaosTestRuns.Short(100, seconds: 1));

        Assert.NotEqual(ChaosTestRuns.OnOperationsBothReached(first, other), ChaosTestRuns.OnOperationsBothReached(other, first));
    }
}
