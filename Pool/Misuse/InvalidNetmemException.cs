namespace Netmem.Pool.Misuse;

/// <summary>The handle names no page this runtime lent (default, forged or corrupted).</summary>
public sealed class InvalidNetmemException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the handle that was refused.</summary>
    public InvalidNetmemException(string message)
        : base(MisuseKind.InvalidHandle, message)
    {
    }
}
