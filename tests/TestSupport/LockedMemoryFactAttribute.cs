using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Netmem.TestSupport;

/// <summary>
/// A fact charged for locked memory (pages it pins through io_uring, the rings themselves): for a user the kernel
/// charges, it runs only while no other such spec of that user runs (<see cref="LockedMemory"/>), so the user's
/// RLIMIT_MEMLOCK is all its own. As root it is a plain fact.
/// </summary>
[XunitTestCaseDiscoverer("Netmem.TestSupport.LockedMemoryFactDiscoverer", "Netmem.TestSupport")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class LockedMemoryFactAttribute : FactAttribute
{
}

/// <summary>Finds <see cref="LockedMemoryFactAttribute"/> specs: one <see cref="LockedMemoryTestCase"/> each.</summary>
public sealed class LockedMemoryFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc/>
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new LockedMemoryTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A spec charged for locked memory: run in this user's turn when the user is charged.</summary>
public sealed class LockedMemoryTestCase : XunitTestCase
{
    /// <summary>For the deserializer only.</summary>
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public LockedMemoryTestCase()
    {
    }

    /// <summary>Creates the test case of <paramref name="testMethod"/>.</summary>
    public LockedMemoryTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay, TestMethodDisplayOptions defaultMethodDisplayOptions, ITestMethod testMethod)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod)
    {
    }

    /// <inheritdoc/>
    public override Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource) =>
        InTurnIfChargedAsync(() => base.RunAsync(diagnosticMessageSink, messageBus, constructorArguments, aggregator, cancellationTokenSource), aggregator);

    /// <summary>Runs <paramref name="run"/> in this user's turn when the user is charged for locked memory, at once otherwise.</summary>
    internal static Task<RunSummary> InTurnIfChargedAsync(Func<Task<RunSummary>> run, ExceptionAggregator aggregator) =>
        LockedMemory.Charged ? InTurnAsync(run, aggregator) : run();

    /// <summary>
    /// Runs <paramref name="run"/> in this user's turn to lock memory; when the turn does not come, runs it with the
    /// reason in <paramref name="aggregator"/>, so the spec is reported failed with it instead of running.
    /// </summary>
    internal static async Task<RunSummary> InTurnAsync(Func<Task<RunSummary>> run, ExceptionAggregator aggregator)
    {
        IDisposable turn;
        try
        {
            turn = await LockedMemory.TakeTurnAsync();
        }
        catch (PrivilegedSpecException e)
        {
            aggregator.Add(e);
            return await run();
        }

        using (turn)
        {
            return await run();
        }
    }
}
