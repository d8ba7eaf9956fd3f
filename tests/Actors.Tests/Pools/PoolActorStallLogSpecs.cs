using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Event;
using Akka.TestKit.Xunit2;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Netmem.Actors.Pools;
using Netmem.Pool;
using Netmem.Simulation;
using Xunit;
using Xunit.Abstractions;

namespace Netmem.Actors.Tests.Pools;

public sealed class PoolActorStallLogSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    [Fact]
    public void A_destroyed_pool_waiting_for_a_page_is_logged_as_a_warning_in_the_kernels_words_with_back_off()
    {
        var iommu = new IommuModel("eth9");
        var options = new PagePoolOptions
        {
            Device = iommu,
            Name = "eth9-rx0",
            StallLogFirstAfter = TimeSpan.FromMilliseconds(200),
            StallLogMaxInterval = TimeSpan.FromMilliseconds(800),
        };
        (IActorRef actor, PagePool pool) = PoolActor.Create(Sys, options, 0, "pool");
        NetmemRef held = pool.Allocate();
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));

        actor.Tell(DestroyPool.Instance);
        ExpectMsg<PoolDestroyed>();
        Warning first = warnings.FishForMessage<Warning>(IsStall, TimeSpan.FromSeconds(5));
        Warning second = warnings.FishForMessage<Warning>(IsStall, TimeSpan.FromSeconds(5));
        Warning third = warnings.FishForMessage<Warning>(IsStall, TimeSpan.FromSeconds(5));

        Assert.Matches(@"^stalled pool shutdown: 1 inflight, [0-9.]+ s \(pool eth9-rx0, id [0-9]+\)$", first.Message.ToString());
        // Due once the pool has waited 0.2 s, 0.6 s and 1.4 s (gaps of 0.4 s, then 0.8 s). A loaded machine can only
        // make a report later, never earlier, so each report states at least its due time; without back-off (a
        // report every 0.2 s check) the third would come at about 0.6 s.
        Assert.True(StalledSeconds(first) >= 0.2, first.Message.ToString());
        Assert.True(StalledSeconds(second) >= 0.6, second.Message.ToString());
        Assert.True(StalledSeconds(third) >= 1.4, third.Message.ToString());
        pool.Return(held);
        Watch(actor);
        ExpectTerminated(actor, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_pool_with_a_logger_of_its_own_is_not_logged_again_by_its_actor()
    {
        var options = new PagePoolOptions
        {
            Device = new IommuModel("eth10"),
            LoggerFactory = NullLoggerFactory.Instance,
            StallLogFirstAfter = TimeSpan.FromMilliseconds(50),
            StallLogMaxInterval = TimeSpan.FromMilliseconds(50),
        };
        (IActorRef actor, PagePool pool) = PoolActor.Create(Sys, options, 0, "pool");
        NetmemRef held = pool.Allocate();
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));

        actor.Tell(DestroyPool.Instance);
        ExpectMsg<PoolDestroyed>();

        warnings.ExpectNoMsg(TimeSpan.FromMilliseconds(800));
        Assert.Equal(PagePoolState.Detached, pool.State);
        pool.Return(held);
    }

    private static double StalledSeconds(Warning warning) =>
        double.Parse(Regex.Match(warning.Message.ToString()!, @"inflight, ([0-9.]+) s").Groups[1].Value, CultureInfo.InvariantCulture);

    private static bool IsStall(Warning warning) => warning.Message.ToString()!.StartsWith("stalled pool shutdown:", StringComparison.Ordinal);
}
