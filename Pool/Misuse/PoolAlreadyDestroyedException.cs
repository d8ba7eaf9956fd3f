namespace Netmem.Pool.Misuse;

/// <summary>The pool was destroyed a second time.</summary>
public sealed class PoolAlreadyDestroyedException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the pool destroyed twice.</summary>
    public PoolAlreadyDestroyedException(string message)
        : base(MisuseKind.DestroyTwice, message)
    {
    }
}
