using Polly;
using Polly.Simmy;

namespace Netmem.Chaos;

/// <summary>
/// The driver seam: called once in the middle of every poll of one RX queue, it throws
/// <see cref="InjectedDriverCrashException"/> on the polls the seed picks, with the poll's frames still in hand.
/// </summary>
internal sealed class DriverFaultSeam
{
    private readonly FaultStream _polls;
    private readonly ResiliencePipeline _pipeline;

    public DriverFaultSeam(SeededChaos chaos, FaultStream polls)
    {
        _polls = polls;
        _pipeline = new ResiliencePipelineBuilder()
            .AddChaosFault(chaos.Fault(FaultKind.DriverCrash, draw => new InjectedDriverCrashException($"Injected driver crash mid-poll ({draw}).")))
            .Build();
    }

    /// <summary>Passes, or throws <see cref="InjectedDriverCrashException"/>.</summary>
    public void MidPoll()
    {
        ResilienceContext context = SeededChaos.Enter(_polls);
        try
        {
            _pipeline.Execute(static _ => { }, context);
        }
        finally
        {
            SeededChaos.Leave(context);
        }
    }
}
