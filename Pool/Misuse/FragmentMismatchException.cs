namespace Netmem.Pool.Misuse;

/// <summary>A fragmented page was returned whole, or a whole page as a fragment.</summary>
public sealed class FragmentMismatchException : NetmemMisuseException
{
    public FragmentMismatchException(string message)
        : base(MisuseKind.FragmentMismatch, message)
    {
    }
}
