namespace Netmem.Pool.Misuse;

/// <summary>The page was already returned; this handle no longer owns it.</summary>
public sealed class DoubleReturnException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the handle that was returned twice.</summary>
    public DoubleReturnException(string message)
        : base(MisuseKind.DoubleReturn, message)
    {
    }
}
