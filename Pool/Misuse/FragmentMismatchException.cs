namespace Netmem.Pool.Misuse;

/// <summary>A fragmented page was returned whole, or a whole page as a fragment.</summary>
public sealed class FragmentMismatchException : NetmemMisuseException
{
    /// <summary>Creates the exception with a message naming the handle and how it was returned.</summary>
    public FragmentMismatchException(string message)
        : base(MisuseKind.FragmentMismatch, message)
    {
    }
}
