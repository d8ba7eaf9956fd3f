namespace Netmem.Pool.Misuse;

/// <summary>The buffer is unreadable device memory; it has no host span.</summary>
public sealed class UnreadableNetmemException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the unreadable handle.</summary>
    public UnreadableNetmemException(string message)
        : base(MisuseKind.UnreadableAccess, message)
    {
    }
}
