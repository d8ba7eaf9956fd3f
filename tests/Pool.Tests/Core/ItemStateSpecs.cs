using Netmem.Pool.Core;
using Xunit;

namespace Netmem.Pool.Tests.Core;

public sealed class ItemStateSpecs
{
    [Theory]
    [InlineData(1u, ItemState.Free)]
    [InlineData(77u, ItemState.Lent)]
    [InlineData(ItemState.GenerationMask, ItemState.LentAsFragments)]
    public void A_state_word_keeps_its_generation_and_lifecycle_apart(uint generation, long lifecycle)
    {
        long state = ItemState.Make(generation, lifecycle);

        Assert.Equal(generation, ItemState.GenerationOf(state));
        Assert.Equal(lifecycle, ItemState.LifecycleOf(state));
    }

    [Fact]
    public void The_generation_wraps_past_its_31_bits_to_1_never_to_0()
    {
        Assert.Equal(2u, ItemState.NextGeneration(1));
        Assert.Equal(1u, ItemState.NextGeneration(ItemState.GenerationMask));
    }

    [Fact]
    public void Precedence_is_serial_number_order_across_the_wrap()
    {
        Assert.True(ItemState.Precedes(1, 2));
        Assert.False(ItemState.Precedes(2, 1));
        Assert.False(ItemState.Precedes(5, 5));
        Assert.True(ItemState.Precedes(ItemState.GenerationMask, 1));
        Assert.False(ItemState.Precedes(1, ItemState.GenerationMask));
        Assert.False(ItemState.Precedes(1, 1 + (1u << 30)));
    }
}
