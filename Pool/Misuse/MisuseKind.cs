namespace Netmem.Pool.Misuse;

/// <summary>The kinds of API misuse the pool detects and rejects, for counting in reports.</summary>
public enum MisuseKind
{
    /// <summary>A default, forged or corrupted handle that names no page the pool ever lent.</summary>
    InvalidHandle,

    /// <summary>A page returned to a pool that does not own it.</summary>
    WrongPool,

    /// <summary>A page returned a second time.</summary>
    DoubleReturn,

    /// <summary>A page (or fragment) read or written through its handle after it was returned.</summary>
    UseAfterReturn,

    /// <summary>An allocation from a pool that has been destroyed.</summary>
    AllocationAfterDestroy,

    /// <summary>A second destroy of the same pool.</summary>
    DestroyTwice,

    /// <summary>A fragmented page returned whole, or a whole page returned as a fragment.</summary>
    FragmentMismatch,

    /// <summary>A span requested for unreadable device memory.</summary>
    UnreadableAccess,
}
