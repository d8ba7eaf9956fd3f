namespace Netmem.Pool.Misuse;

/// <summary>The page was accessed through a handle that was already returned.</summary>
public sealed class UseAfterReturnException : NetmemMisuseException
{
    public UseAfterReturnException(string message)
        : base(MisuseKind.UseAfterReturn, message)
    {
    }
}
