namespace Netmem.Chaos;

/// <summary>The crash a chaos run injects into a driver's poll.</summary>
internal sealed class InjectedDriverCrashException : Exception
{
    public InjectedDriverCrashException(string message)
        : base(message)
    {
    }
}
