using Netmem.Driver.Devices;

namespace Netmem.Uring.Tests.Runtime;

/// <summary>
/// The real io_uring device as the runtime sees it in these scenarios: each bind runs inside a private network
/// namespace (so its AF_PACKET sockets on lo see only the scenario's own traffic) and comes back wrapped in a
/// <see cref="RecordingBinding"/>, a fresh <see cref="DmaOracle"/> per bind.
/// </summary>
/// <remarks>
/// Sockets stay in the namespace they were created in, whichever thread later uses them, so only the bind itself has
/// to run on a thread inside the namespace; the driver's reaps and the pools' unmaps run on the runtime's threads.
/// </remarks>
internal sealed class OracleUringDevice(UringDevice inner, string namespacePath) : INetDevice
{
    private readonly Lock _lock = new();
    private readonly List<RecordingBinding> _binds = new();

    public string Name => inner.Name;

    public UringDevice Inner => inner;

    public FaultPlan Faults { get; } = new();

    public IReadOnlyList<RecordingBinding> Binds
    {
        get
        {
            lock (_lock)
            {
                return _binds.ToArray();
            }
        }
    }

    public RecordingBinding Current => Binds[^1];

    public IDeviceBinding Bind(DeviceBindContext context)
    {
        // Unwrapped from the namespace runner's AggregateException, so a refusal reaches the supervisor as the device's own.
        UringBinding binding;
        try
        {
            binding = Traffic.PrivateNetworkNamespace.Run(namespacePath, () => inner.Bind(context));
        }
        catch (AggregateException e) when (e.InnerException is DeviceBindException refusal)
        {
            throw refusal;
        }

        lock (_lock)
        {
            var recording = new RecordingBinding(binding, new DmaOracle(_binds.Count + 1), Faults);
            _binds.Add(recording);
            return recording;
        }
    }
}
