using Microsoft.Coyote;
using Microsoft.Coyote.SystematicTesting;
using Xunit;

namespace Netmem.Pool.ModelChecks;

/// <summary>
/// Runs a scenario under Coyote's systematic scheduler, which turns every Interlocked call (and every SpinWait) in
/// the rewritten core into a scheduling point and explores a different interleaving in each iteration, with the
/// priority-based (PCT) strategy. Every Volatile read and write is a scheduling point too: that is Coyote's default
/// (<c>WithVolatileOperationRaceCheckingEnabled(false)</c> turns it off, and then the check-then-act unmap of
/// <see cref="BrokenClaimModelChecks"/> is no longer found), and the recycle ring's checks rely on it, since its
/// enqueue and drain make no Interlocked call. Destroy's walk reads one per item, which dilutes the schedules that
/// matter (a returner preempted between winning a claim and calling the device) below what a CI-sized run finds.
/// Measured on the gate with its wait removed: the release-racing-destroy check then finds the call-after-unbind
/// about once per 1,000-2,000 schedules, hence 5,000.
/// </summary>
internal static class CoyoteHarness
{
    public static TestReport Explore(Func<Task> scenario, uint iterations = 300)
    {
        Configuration configuration = Configuration.Create()
            .WithTestingIterations(iterations)
            .WithAtomicOperationRaceCheckingEnabled()
            .WithMaxSchedulingSteps(20_000).WithPrioritizationStrategy(false, 10)
            .WithRandomGeneratorSeed(2025);
        using TestingEngine engine = TestingEngine.Create(configuration, scenario);
        engine.Run();
        return engine.TestReport;
    }

    public static void AssertNoBugFound(Func<Task> scenario, uint iterations = 300)
    {
        TestReport report = Explore(scenario, iterations);
        Assert.True(report.NumOfFoundBugs == 0, string.Join(Environment.NewLine, report.BugReports));
        Assert.True(report.NumOfExploredFairPaths + report.NumOfExploredUnfairPaths >= iterations / 2, "Coyote explored too few schedules.");
    }
}

/// <summary>
/// Every check that drives the pool runs in this one collection, one at a time: the core's process-wide item-block
/// table takes a lock, and Coyote refuses a lock first taken under another engine's run (two checks in parallel).
/// </summary>
[CollectionDefinition(nameof(CoyoteCollection))]
public sealed class CoyoteCollection;
