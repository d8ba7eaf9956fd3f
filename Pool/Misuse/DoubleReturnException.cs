namespace Netmem.Pool.Misuse;

/// <summary>The page was already returned; this handle no longer owns it.</summary>
public sealed class DoubleReturnException : NetmemMisuseException
{
    public DoubleReturnException(string message)
        : base(MisuseKind.DoubleReturn, message)
    {
    }
}
