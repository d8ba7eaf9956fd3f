using System.Diagnostics.Metrics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Netmem.Actors.Health;
using Netmem.Stack.Actors;

namespace Netmem.Actors.Hosting;

/// <summary>Composes the runtime into a Generic Host (through Akka.Hosting).</summary>
public static class PagePoolRuntimeHostingExtensions
{
    /// <summary>
    /// Adds an actor system named <paramref name="actorSystemName"/> running a <see cref="PagePoolRuntime"/>: the
    /// options are checked when the host starts (a bad option fails <c>StartAsync</c> with a message saying which),
    /// Akka's logs go to the host's <c>ILogger</c>s, every pool publishes its metrics through the host's
    /// <c>IMeterFactory</c>, and <see cref="PagePoolRuntime"/> and the
    /// <see cref="ActorSystem"/> are resolvable from the container once the host has started. It also registers the
    /// runtime's health check (<see cref="PagePoolHealthCheck"/>, named <c>pagepool</c>) with the host's health checks.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="actorSystemName">The actor system's name.</param>
    /// <param name="options">The devices and sockets to run; checked when the host starts.</param>
    /// <param name="configure">Further Akka configuration (your own actors, HOCON).</param>
    public static IServiceCollection AddPagePoolRuntime(
        this IServiceCollection services,
        string actorSystemName,
        PagePoolRuntimeOptions options,
        Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);

        // Registered before the actor system's own hosted service, so a bad option fails the host's start first.
        services.AddHostedService(_ => new PagePoolRuntimeOptionsCheck(options));
        services.AddAkka(actorSystemName, (builder, provider) =>
        {
            builder.ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLoggerFactory();
            });
            // The caller's actors start first, so anything they watch for (dead letters, logs) sees the runtime start.
            configure?.Invoke(builder, provider);
            builder.AddPagePoolRuntime(options with { MeterFactory = options.MeterFactory ?? provider.GetService<IMeterFactory>() });
        });
        services.AddSingleton(provider => PagePoolRuntime.Get(provider.GetRequiredService<ActorSystem>()));
        services.AddHealthChecks().AddCheck<PagePoolHealthCheck>(PagePoolHealthCheck.Name);
        return services;
    }

    /// <summary>
    /// Starts a <see cref="PagePoolRuntime"/> when the actor system starts, registers the stack actor under
    /// <see cref="NetworkStackActor"/> in the actor registry, and gives the shutdown phase that unbinds the devices
    /// a timeout long enough for every unbind phase to time out in turn. Find the runtime with
    /// <see cref="PagePoolRuntime.Get"/> (or resolve it, with <see cref="AddPagePoolRuntime(IServiceCollection, string, PagePoolRuntimeOptions, Action{AkkaConfigurationBuilder, IServiceProvider}?)"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public static AkkaConfigurationBuilder AddPagePoolRuntime(this AkkaConfigurationBuilder builder, PagePoolRuntimeOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TimeSpan longest = options.Devices.Max(d => d.MaxUnbindDuration) + TimeSpan.FromSeconds(2);
        builder.AddHocon(
            ConfigurationFactory.ParseString($"akka.coordinated-shutdown.phases.{PagePoolRuntime.ShutdownPhase}.timeout = {(int)longest.TotalMilliseconds}ms"),
            HoconAddMode.Prepend);
        return builder.WithActors((system, registry) =>
        {
            PagePoolRuntime runtime = PagePoolRuntime.Start(system, options);
            registry.Register<NetworkStackActor>(runtime.Stack);
        });
    }
}
