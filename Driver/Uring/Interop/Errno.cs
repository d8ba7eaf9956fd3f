namespace Netmem.Uring.Interop;

/// <summary>The errno values the device tells apart, and their names for messages.</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ETIME = 62;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int EADDRINUSE = 98;
    public const int ENOBUFS = 105;
    public const int EALREADY = 114;
    public const int ECANCELED = 125;

    /// <summary>"EBADF (bad file descriptor)" for a positive errno.</summary>
    public static string Describe(int errno) => errno switch
    {
        EPERM => "EPERM (operation not permitted)",
        ENOENT => "ENOENT (no such entry)",
        EINTR => "EINTR (interrupted)",
        EBADF => "EBADF (bad file descriptor)",
        EAGAIN => "EAGAIN (try again)",
        ENOMEM => "ENOMEM (out of memory or over the locked-memory limit)",
        EACCES => "EACCES (permission denied)",
        EFAULT => "EFAULT (bad address)",
        EBUSY => "EBUSY (busy)",
        ENODEV => "ENODEV (no such device)",
        EINVAL => "EINVAL (invalid argument)",
        ENOSYS => "ENOSYS (not implemented by this kernel)",
        ETIME => "ETIME (timed out)",
        EOPNOTSUPP => "EOPNOTSUPP (not supported)",
        EAFNOSUPPORT => "EAFNOSUPPORT (address family not supported)",
        EADDRINUSE => "EADDRINUSE (address in use)",
        ENOBUFS => "ENOBUFS (no buffer available)",
        EALREADY => "EALREADY (already in progress)",
        ECANCELED => "ECANCELED (cancelled)",
        _ => $"errno {errno}",
    };
}
