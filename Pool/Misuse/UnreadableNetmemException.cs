namespace Netmem.Pool.Misuse;

/// <summary>The buffer is unreadable device memory; it has no host span.</summary>
public sealed class UnreadableNetmemException : NetmemMisuseException
{
    public UnreadableNetmemException(string message)
        : base(MisuseKind.UnreadableAccess, message)
    {
    }
}
