namespace Netmem.Pool.Misuse;

/// <summary>
/// The base of every misuse error. A misuse is rejected before the pool changes any state, so after catching one
/// the pool, the page and its accounting are exactly as they were.
/// </summary>
public abstract class NetmemMisuseException : InvalidOperationException
{
    /// <summary>Creates the exception for a misuse of <paramref name="kind"/>, with a message describing it.</summary>
    protected NetmemMisuseException(MisuseKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    /// <summary>Which misuse was rejected, for code that handles the kinds differently without matching on types.</summary>
    public MisuseKind Kind { get; }
}
