using Netmem.Chaos;
using Netmem.Pool.Misuse;
using Spectre.Console;
using Xunit;

namespace Netmem.Actors.Tests.Chaos;

public sealed class ChaosReportSpecs
{
    [Fact]
    public void Packets_add_up_only_when_every_received_packet_is_delivered_or_dropped_with_a_reason()
    {
        var dropped = new Dictionary<string, long> { ["socket queue full"] = 3, ["no socket for the flow"] = 2 };

        Assert.True(new PacketCounts(15, 10, dropped).AddsUp);
        Assert.Equal(1, new PacketCounts(16, 10, dropped).Unaccounted);
        Assert.False(new PacketCounts(16, 10, dropped).AddsUp);
    }

    [Fact]
    public void Each_violation_counter_counts_toward_the_verdict_on_its_own()
    {
        ChaosViolations none = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        ChaosViolations[] single =
        [
            none with { DoubleUnmap = 1 }, none with { DeviceCallAfterUnbind = 1 }, none with { DmaToUnmappedPage = 1 },
            none with { SyncOfUnmappedPage = 1 }, none with { UnmapOfUnknownAddress = 1 }, none with { UnmapLengthMismatch = 1 },
            none with { UnmapDirectionMismatch = 1 }, none with { MappingLeakedAtUnbind = 1 },
            none with { PageLeakedAtEndOfRun = 1 }, none with { AccountingMismatch = 1 }, none with { UnboundWithItemsNotReclaimed = 1 },
            none with { MisuseNotRejected = 1 }, none with { PacketsUnaccounted = 1 }, none with { KernelErrors = 1 },
            none with { DeviceWroteAfterUnmap = 1 },
        ];

        Assert.Equal(0, none.Total);
        Assert.Equal(none.Counters().Count, single.Length);
        Assert.All(single, v => Assert.Equal(1, v.Total));
        Assert.All(single, v => Assert.Single(v.Counters(), c => c.Count == 1));
    }

    [Fact]
    public void The_json_report_round_trips_and_names_enums()
    {
        ChaosReport report = Sample();

        string json = ChaosReportJson.Serialize(report);
        ChaosReport back = ChaosReportJson.Deserialize(json)!;

        Assert.Contains("\"doubleUnmap\": 2", json, StringComparison.Ordinal);
        Assert.Contains("\"DmaMapFailure\": 4", json, StringComparison.Ordinal);
        Assert.Contains("\"passed\": false", json, StringComparison.Ordinal);
        Assert.Equal(report.Violations, back.Violations);
        Assert.Equal(report.FaultLedger, back.FaultLedger);
        Assert.Equal(report.Packets.DroppedByReason, back.Packets.DroppedByReason);
    }

    [Fact]
    public void The_summary_table_shows_every_violation_counter()
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No });
        console.Profile.Width = 200;

        console.Write(ChaosReportTable.Render(Sample()));

        foreach ((string name, _) in Sample().Violations.Counters())
        {
            Assert.Contains(name, output.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_run_that_exercised_something_and_found_nothing_passes()
    {
        ChaosReport clean = Sample() with { Violations = NoViolations };

        Assert.Equal(ChaosVerdict.Passed, clean.Verdict);
        Assert.True(clean.Passed);
        Assert.Empty(clean.NotExercised);
    }

    [Fact]
    public void A_run_that_delivered_no_packet_cannot_pass()
    {
        ChaosReport report = Sample() with { Violations = NoViolations, Packets = new PacketCounts(3, 0, new Dictionary<string, long> { ["socket queue full"] = 3 }) };

        Assert.Equal(ChaosVerdict.NothingExercised, report.Verdict);
        Assert.False(report.Passed);
        Assert.Equal(["no packet was delivered to a consumer (3 received)"], report.NotExercised);
    }

    [Fact]
    public void A_run_with_faults_on_and_no_unbind_cannot_pass_but_without_faults_it_can()
    {
        ChaosReport report = Sample() with { Violations = NoViolations, Unbinds = 0 };

        Assert.Equal(ChaosVerdict.NothingExercised, report.Verdict);
        Assert.Equal(["no device was unbound, although faults were on"], report.NotExercised);
        Assert.Equal(ChaosVerdict.Passed, (report with { EnabledFaults = [] }).Verdict);
        Assert.Equal(ChaosVerdict.Passed, (report with { FaultRate = 0 }).Verdict);
    }

    [Fact]
    public void A_cancelled_run_is_never_a_pass_and_says_so_whatever_else_it_found()
    {
        ChaosReport clean = Sample() with { Violations = NoViolations, Cancelled = true };
        ChaosReport withViolations = Sample() with { Cancelled = true };

        Assert.Equal(ChaosVerdict.Cancelled, clean.Verdict);
        Assert.Equal(ChaosVerdict.Cancelled, withViolations.Verdict);
        Assert.False(clean.Passed);
        Assert.Equal("CANCELLED", ChaosConsole.Verdict(clean).Label);
        Assert.Contains("CANCELLED", Render(clean), StringComparison.Ordinal);
        Assert.True(ChaosReportJson.Deserialize(ChaosReportJson.Serialize(clean))!.Cancelled);
    }

    [Fact]
    public void Violations_outrank_not_exercised()
    {
        ChaosReport report = Sample() with { Unbinds = 0 };

        Assert.Equal(ChaosVerdict.Violations, report.Verdict);
        Assert.Equal(("FAIL", "2 violation(s)."), ChaosConsole.Verdict(report));
    }

    private static ChaosViolations NoViolations => new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    private static string Render(ChaosReport report)
    {
        var output = new StringWriter();
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No });
        console.Profile.Width = 200;
        console.Write(ChaosReportTable.Render(report));
        return output.ToString();
    }

    private static ChaosReport Sample() => new()
    {
        Seed = 5,
        DurationSeconds = 1,
        WallSeconds = 2,
        Devices = 1,
        QueuesPerDevice = 1,
        Consumers = 1,
        FaultRate = 0.01,
        EnabledFaults = [FaultKind.DmaMapFailure],
        Packets = new PacketCounts(10, 7, new Dictionary<string, long> { ["socket queue full"] = 3 }),
        Unbinds = 1,
        Rebinds = 0,
        InflightAtUnbindSum = 9,
        InflightAtUnbindMax = 9,
        PagesUnmappedByDestroy = 4,
        LateReturns = 4,
        ConsumerCrashes = 0,
        StormReturns = 0,
        FaultsInjected = new Dictionary<FaultKind, long> { [FaultKind.DmaMapFailure] = 4 },
        MisuseRejected = new Dictionary<MisuseKind, long> { [MisuseKind.DoubleReturn] = 1 },
        Violations = new ChaosViolations(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        Problems = [],
        FaultLedger = [new InjectedFault(FaultKind.DmaMapFailure, "dev0/map", 17)],
        OperationsByStream = new Dictionary<string, long> { ["dev0/map"] = 100 },
    };
}
