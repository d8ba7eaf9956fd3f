using Akka.Configuration;
using Akka.Hosting;
using Netmem.Stack.Actors;

namespace Netmem.Actors.Hosting;

/// <summary>Composes the runtime into an Akka.Hosting actor system.</summary>
public static class PagePoolRuntimeHostingExtensions
{
    /// <summary>
    /// Starts a <see cref="PagePoolRuntime"/> when the actor system starts, registers the stack actor under
    /// <see cref="NetworkStackActor"/> in the actor registry, and gives the shutdown phase that unbinds the devices
    /// a timeout long enough for every unbind phase to time out in turn. <paramref name="started"/> receives the
    /// runtime (for its device supervisors and shutdown reports).
    /// </summary>
    public static AkkaConfigurationBuilder AddPagePoolRuntime(
        this AkkaConfigurationBuilder builder,
        PagePoolRuntimeOptions options,
        Action<PagePoolRuntime>? started = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        TimeSpan longest = options.Devices.Max(d => d.MaxUnbindDuration) + TimeSpan.FromSeconds(2);
        builder.AddHocon(
            ConfigurationFactory.ParseString($"akka.coordinated-shutdown.phases.{PagePoolRuntime.ShutdownPhase}.timeout = {(int)longest.TotalMilliseconds}ms"),
            HoconAddMode.Prepend);
        return builder.WithActors((system, registry) =>
        {
            PagePoolRuntime runtime = PagePoolRuntime.Start(system, options);
            registry.Register<NetworkStackActor>(runtime.Stack);
            started?.Invoke(runtime);
        });
    }
}
