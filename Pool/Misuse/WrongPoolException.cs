namespace Netmem.Pool.Misuse;

/// <summary>The page belongs to another pool than the one it was returned to.</summary>
public sealed class WrongPoolException : NetmemMisuseException
{
    public WrongPoolException(string message)
        : base(MisuseKind.WrongPool, message)
    {
    }
}
