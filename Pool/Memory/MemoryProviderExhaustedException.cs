namespace Netmem.Pool.Memory;

/// <summary>The memory provider had no page to give (exhausted, or an injected allocation failure).</summary>
public sealed class MemoryProviderExhaustedException : Exception
{
    /// <summary>Creates the exception with a message saying which provider ran out and why.</summary>
    public MemoryProviderExhaustedException(string message)
        : base(message)
    {
    }
}
