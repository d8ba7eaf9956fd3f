namespace Netmem.Pool.Misuse;

/// <summary>The page was accessed through a handle that was already returned.</summary>
public sealed class UseAfterReturnException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the stale handle and the operation refused.</summary>
    public UseAfterReturnException(string message)
        : base(MisuseKind.UseAfterReturn, message)
    {
    }
}
