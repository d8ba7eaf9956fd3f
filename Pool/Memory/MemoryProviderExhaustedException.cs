namespace Netmem.Pool.Memory;

/// <summary>The memory provider had no page to give (exhausted, or an injected allocation failure).</summary>
public sealed class MemoryProviderExhaustedException : Exception
{
    public MemoryProviderExhaustedException(string message)
        : base(message)
    {
    }
}
