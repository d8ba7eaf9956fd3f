using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

public sealed class StripedCounterSpecs
{
    [Fact]
    public void Increments_from_many_threads_are_counted_exactly()
    {
        var counter = new StripedCounter();

        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 25_000; i++)
            {
                counter.Increment();
            }
        });

        Assert.Equal(200_000, counter.Read());
    }
}
