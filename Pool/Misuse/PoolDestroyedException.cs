namespace Netmem.Pool.Misuse;

/// <summary>An allocation was made from a destroyed pool.</summary>
public sealed class PoolDestroyedException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the destroyed pool that was asked for a page.</summary>
    public PoolDestroyedException(string message)
        : base(MisuseKind.AllocationAfterDestroy, message)
    {
    }
}
