namespace Netmem.Pool;

// Temporary: replaced by the core's revocation when the poolcore branch lands.
public sealed partial class PagePool
{
    public void RevokeDeviceAccess()
    {
    }

    public int DeviceCallsInFlight => 0;
}

public static class TemporaryRevocationShim
{
    extension(PagePoolDestroyReport report)
    {
        public long RevokedWithDomain => 0;
    }
}
