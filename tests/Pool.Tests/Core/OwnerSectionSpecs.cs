using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

public sealed class OwnerSectionSpecs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Waiting_for_an_owner_that_is_outside_returns_at_once()
    {
        var owner = new Owner();
        owner.Section.Enter();
        owner.Section.Leave();

        await Task.Run(() => owner.Section.WaitForOwnerToLeave()).WaitAsync(Patience);
    }

    [Fact]
    public async Task The_wait_ends_only_after_the_outermost_leave_and_sees_what_the_owner_wrote_inside()
    {
        var owner = new Owner();
        owner.Section.Enter();
        owner.Section.Enter();
        int writtenInside = 0;

        Task<int> waiting = Task.Run(() =>
        {
            owner.Section.WaitForOwnerToLeave();
            return writtenInside;
        });
        owner.Section.Leave();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted, "the wait ended while the owner was still inside its outer section");

        writtenInside = 42;
        owner.Section.Leave();
        Assert.Equal(42, await waiting.WaitAsync(Patience));
    }

    private sealed class Owner
    {
        public OwnerSection Section;
    }
}
