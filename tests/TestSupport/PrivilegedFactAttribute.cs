using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Netmem.TestSupport;

/// <summary>
/// A fact that needs privileges a normal user lacks: packet sockets (CAP_NET_RAW), network namespaces and veth pairs
/// (CAP_NET_ADMIN, CAP_SYS_ADMIN), more pinned memory than a small RLIMIT_MEMLOCK allows.
/// </summary>
/// <remarks>
/// <para>As root it runs here, as any fact. As a normal user it runs in a child process inside a user and network
/// namespace of its own (<see cref="NamespacedSpecRunner"/>), where it is root with those capabilities over its own
/// network: only its loopback and the namespaces it creates; charged for the pages it pins there, it takes its turn
/// with the other specs that pin (<see cref="LockedMemory"/>). Where neither works (user namespaces or io_uring
/// disabled, too little locked memory) it is skipped, the reason naming what is missing; under CI (CI=true) it fails
/// instead, so nothing is skipped where CI runs.</para>
/// <para>A spec marked so takes no arguments, and its class at most an <see cref="ITestOutputHelper"/>: the child
/// builds the class itself, and the parent never does.</para>
/// </remarks>
[XunitTestCaseDiscoverer("Netmem.TestSupport.PrivilegedFactDiscoverer", "Netmem.TestSupport")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class PrivilegedFactAttribute : FactAttribute
{
}

/// <summary>Finds <see cref="PrivilegedFactAttribute"/> specs: one <see cref="PrivilegedTestCase"/> each.</summary>
public sealed class PrivilegedFactDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc/>
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute) =>
        [new PrivilegedTestCase(diagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod)];
}

/// <summary>A privileged spec: skipped with what is missing when it cannot run, run in a namespace when it cannot run here.</summary>
public sealed class PrivilegedTestCase : XunitTestCase
{
    /// <summary>For the deserializer only.</summary>
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public PrivilegedTestCase()
    {
    }

    /// <summary>Creates the test case of <paramref name="testMethod"/>.</summary>
    public PrivilegedTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay, TestMethodDisplayOptions defaultMethodDisplayOptions, ITestMethod testMethod)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod)
    {
    }

    /// <inheritdoc/>
    public override Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus, object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource) =>
        Privileges.RunHere
            ? LockedMemoryTestCase.InTurnIfChargedAsync(() => base.RunAsync(diagnosticMessageSink, messageBus, constructorArguments, aggregator, cancellationTokenSource), aggregator)
            : LockedMemoryTestCase.InTurnAsync(() => new NamespacedSpecCaseRunner(this, DisplayName, SkipReason, constructorArguments, messageBus, aggregator, cancellationTokenSource).RunAsync(), aggregator);

    /// <inheritdoc/>
    protected override string? GetSkipReason(IAttributeInfo factAttribute) =>
        base.GetSkipReason(factAttribute) ?? (Privileges.UnderCi ? null : Privileges.Missing);
}
