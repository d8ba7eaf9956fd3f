using Xunit.Sdk;

namespace Netmem.TestKit;

/// <summary>
/// A <see cref="DeviceUnderTest"/> assertion failed; the message says what is wrong and where (which device, pool,
/// page, phase or call), in words.
/// </summary>
public sealed class ScenarioAssertionException : XunitException
{
    /// <summary>Creates the failure with the words that explain it.</summary>
    /// <param name="message">What is wrong and where.</param>
    public ScenarioAssertionException(string message)
        : base(message)
    {
    }
}
