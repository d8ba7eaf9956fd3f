namespace Netmem.Pool;

/// <summary>Whether the pool records where each page was allocated, for leak reports (like Netty's leak detector).</summary>
public enum LeakDetectionMode
{
    /// <summary>No capture; zero cost.</summary>
    Disabled,

    /// <summary>Every allocation captures its stack trace (Netty's PARANOID). Costly; for tests and debugging.</summary>
    Paranoid,
}
