using System.Diagnostics;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Netmem.TestSupport;

/// <summary>The xunit case runner of a privileged spec run in a namespace: the usual lifecycle, the spec itself elsewhere.</summary>
internal sealed class NamespacedSpecCaseRunner(IXunitTestCase testCase, string displayName, string skipReason, object[] constructorArguments, IMessageBus messageBus, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    : XunitTestCaseRunner(testCase, displayName, skipReason, constructorArguments, [], messageBus, aggregator, cancellationTokenSource)
{
    protected override Task<RunSummary> RunTestAsync() =>
        new NamespacedSpecRunner(CreateTest(TestCase, DisplayName), MessageBus, TestClass, ConstructorArguments, TestMethod, TestMethodArguments, SkipReason, BeforeAfterAttributes, new ExceptionAggregator(Aggregator), CancellationTokenSource).RunAsync();
}

/// <summary>
/// Runs one privileged spec in a child process inside a user and network namespace of its own, and reports the
/// child's verdict and output as the spec's.
/// </summary>
/// <remarks>
/// <para><b>Why a child process.</b> A process joins a new user namespace only while it has one thread (unshare and
/// setns refuse CLONE_NEWUSER otherwise), and a test host has many; a thread of it cannot even enter a network
/// namespace that a user namespace owns, since setns also asks for CAP_SYS_ADMIN in the caller's own user namespace.
/// So the spec runs in a fresh process started under <c>unshare --user --map-root-user --net --mount</c>: root there,
/// with every capability over that namespace's network and mounts and none over the machine's. Its network holds
/// only its own lo; the specs' own namespaces and veth pairs are created inside it and vanish with it.</para>
/// <para><b>What runs where.</b> The parent never builds the spec's class (so a class that starts an actor system or
/// binds a device does so once, in the child); <see cref="NamespacedSpec"/> starts the child and
/// <see cref="SpecHost"/> runs the spec in it.</para>
/// </remarks>
internal sealed class NamespacedSpecRunner(ITest test, IMessageBus messageBus, Type testClass, object[] constructorArguments, System.Reflection.MethodInfo testMethod, object[] testMethodArguments, string skipReason, IReadOnlyList<BeforeAfterTestAttribute> beforeAfterAttributes, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    : XunitTestRunner(test, messageBus, testClass, constructorArguments, testMethod, testMethodArguments, skipReason, beforeAfterAttributes, aggregator, cancellationTokenSource)
{
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(4);

    protected override async Task<Tuple<decimal, string>> InvokeTestAsync(ExceptionAggregator aggregator)
    {
        if (Privileges.Missing is { } missing)
        {
            aggregator.Add(new PrivilegedSpecException($"{missing} Under CI (CI=true) a spec that cannot get its privileges fails instead of being skipped."));
            return Tuple.Create(0m, string.Empty);
        }

        var timer = Stopwatch.StartNew();
        NamespacedSpecResult result = await NamespacedSpec.RunAsync(TestClass, TestMethod.Name, Patience, CancellationTokenSource.Token);
        decimal seconds = (decimal)timer.Elapsed.TotalSeconds;
        if (!result.Passed)
        {
            aggregator.Add(new PrivilegedSpecException(result.TimedOut
                ? $"The spec did not finish within {Patience.TotalMinutes} minutes in its user and network namespace; its process was killed.{Environment.NewLine}{result.Error}"
                : $"The spec failed in its user and network namespace (exit code {result.ExitCode}):{Environment.NewLine}{result.Error}"));
        }

        return Tuple.Create(seconds, result.Output);
    }
}

/// <summary>A privileged spec that failed in, or could not get, its namespace.</summary>
public sealed class PrivilegedSpecException(string message) : Exception(message);
