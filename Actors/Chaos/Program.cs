using Netmem.Chaos;

// The main command: a seeded chaos run (see ChaosCommand). With no arguments it runs the default scenario.
return await ChaosCommand.InvokeAsync(args);
