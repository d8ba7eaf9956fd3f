namespace Netmem.Pool.Misuse;

/// <summary>The pool was destroyed a second time.</summary>
public sealed class PoolAlreadyDestroyedException : NetmemMisuseException
{
    public PoolAlreadyDestroyedException(string message)
        : base(MisuseKind.DestroyTwice, message)
    {
    }
}
