namespace Netmem.TestKit.Internal;

/// <summary>A fault a scenario asked for through <see cref="ScenarioFaults"/>; its message says which.</summary>
internal sealed class InjectedFaultException(string message) : Exception(message);
