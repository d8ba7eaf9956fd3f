namespace Netmem.Pool.Misuse;

/// <summary>The handle names no page this runtime lent (default, forged or corrupted).</summary>
public sealed class InvalidNetmemException : NetmemMisuseException
{
    public InvalidNetmemException(string message)
        : base(MisuseKind.InvalidHandle, message)
    {
    }
}
