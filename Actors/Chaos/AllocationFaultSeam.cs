using Netmem.Pool.Memory;
using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// The memory-provider seam: plugged into <see cref="SegmentedPageProvider.AllocationFailureInjector"/>, it makes an
/// allocation fail when the seeded chaos outcome says so. The pipeline's normal outcome is "does not fail"; the
/// injected outcome is "fails".
/// </summary>
internal sealed class AllocationFaultSeam
{
    private readonly FaultStream _allocations;
    private readonly ResiliencePipeline<bool> _pipeline;

    public AllocationFaultSeam(SeededChaos chaos, FaultStream allocations)
    {
        _allocations = allocations;
        _pipeline = new ResiliencePipelineBuilder<bool>()
            .AddChaosOutcome(chaos.Outcome(FaultKind.AllocationFailure, _ => true))
            .Build();
    }

    /// <summary>Installs the seam on <paramref name="provider"/>.</summary>
    public void Attach(SegmentedPageProvider provider) => provider.AllocationFailureInjector = _ => Fails();

    public bool Fails()
    {
        ResilienceContext context = SeededChaos.Enter(_allocations);
        try
        {
            return _pipeline.Execute(static _ => false, context);
        }
        finally
        {
            SeededChaos.Leave(context);
        }
    }
}
