namespace Netmem.Pool.Misuse;

/// <summary>
/// The base of every misuse error. A misuse is rejected before the pool changes any state, so after catching one
/// the pool, the page and its accounting are exactly as they were.
/// </summary>
public abstract class NetmemMisuseException : InvalidOperationException
{
    protected NetmemMisuseException(MisuseKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public MisuseKind Kind { get; }
}
