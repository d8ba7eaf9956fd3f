namespace Netmem.Pool.Misuse;

/// <summary>An allocation was made from a destroyed pool.</summary>
public sealed class PoolDestroyedException : NetmemMisuseException
{
    public PoolDestroyedException(string message)
        : base(MisuseKind.AllocationAfterDestroy, message)
    {
    }
}
