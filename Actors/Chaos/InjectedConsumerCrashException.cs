namespace Netmem.Chaos;

/// <summary>The crash a chaos run injects into a consumer while it holds pages.</summary>
internal sealed class InjectedConsumerCrashException : Exception
{
    public InjectedConsumerCrashException(string message)
        : base(message)
    {
    }
}
