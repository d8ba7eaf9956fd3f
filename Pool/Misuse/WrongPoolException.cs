namespace Netmem.Pool.Misuse;

/// <summary>The page belongs to another pool than the one it was returned to.</summary>
public sealed class WrongPoolException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the page's pool and the pool it was returned to.</summary>
    public WrongPoolException(string message)
        : base(MisuseKind.WrongPool, message)
    {
    }
}
