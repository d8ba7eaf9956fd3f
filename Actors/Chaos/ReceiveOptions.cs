using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using Netmem.Uring;

namespace Netmem.Chaos;

/// <summary>
/// The options of the <c>receive</c> command: where the real device receives from (an interface through AF_PACKET,
/// or a UDP address), its RX queues, and plain output. Like <see cref="ChaosOptions"/>, every value goes through a
/// parser of its own, so every error names the option, the value and what is expected, in words.
/// </summary>
internal sealed class ReceiveOptions
{
    public const int MaxQueues = 64;

    public Option<string?> Interface { get; } = new("--interface")
    {
        Description = "Receive every frame of this network interface, such as lo (AF_PACKET; needs root or CAP_NET_RAW).",
        HelpName = "name",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseInterface,
    };

    public Option<IPEndPoint?> Udp { get; } = new("--udp")
    {
        Description = "Receive the UDP datagrams sent to this IPv4 address and port, such as 127.0.0.1:9000 (payloads without headers, delivered as the flow UDP 0.0.0.0:0 -> address:port, since the socket does not say who sent each).",
        HelpName = "address:port",
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseUdp,
    };

    public Option<int> Queues { get; } = new("--queues")
    {
        Description = "RX queues (sockets in a fanout group, or sharing the port), each with its own pool.",
        HelpName = "count",
        DefaultValueFactory = _ => 1,
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = ParseQueues,
    };

    public Option<ChaosOptions.Toggle?> Plain { get; } = ChaosOptions.Flag("--plain", "Plain lines instead of the live display (the default when output is redirected).");

    public IEnumerable<Option> All => [Interface, Udp, Queues, Plain];

    /// <summary>The problems with the combination of options (each alone already parsed), in words.</summary>
    public IReadOnlyList<string> Check(ParseResult result)
    {
        bool hasInterface = result.GetResult(Interface) is { Implicit: false };
        bool hasUdp = result.GetResult(Udp) is { Implicit: false };
        return (hasInterface, hasUdp) switch
        {
            (false, false) => ["receive needs a source: --interface NAME (such as lo) or --udp ADDRESS:PORT (such as 127.0.0.1:9000)."],
            (true, true) => ["receive takes one source: --interface or --udp, not both."],
            _ => [],
        };
    }

    public ReceiveSettings ToSettings(ParseResult result) => new(
        result.GetValue(Interface) is { } name ? UringSource.Packet(name) : UringSource.Udp(result.GetValue(Udp)!),
        result.GetValue(Queues),
        result.GetValue(Plain) == ChaosOptions.Toggle.On);

    private static string? ParseInterface(ArgumentResult result)
    {
        const string expected = "the name of a network interface, such as lo";
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return null;
        }

        // Linux interface names: 1 to 15 bytes, no slash, no white space.
        if (text.Length is 0 or > 15 || text.Any(c => c == '/' || char.IsWhiteSpace(c)))
        {
            OptionValues.AddError(result, text, expected);
            return null;
        }

        if (!System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces().Any(i => i.Name == text))
        {
            result.AddError($"{OptionValues.OptionName(result)} '{text}': there is no such network interface here; expected {expected}.");
            return null;
        }

        return text;
    }

    private static IPEndPoint? ParseUdp(ArgumentResult result)
    {
        const string expected = "an IPv4 address and a port, such as 127.0.0.1:9000";
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return null;
        }

        if (!IPEndPoint.TryParse(text, out IPEndPoint? endpoint)
            || endpoint.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            || endpoint.Port == 0
            || !text.Contains(':', StringComparison.Ordinal))
        {
            OptionValues.AddError(result, text, expected);
            return null;
        }

        return endpoint;
    }

    private static int ParseQueues(ArgumentResult result)
    {
        string expected = $"a whole number from 1 to {MaxQueues}";
        if (!OptionValues.TryGetToken(result, expected, out string text))
        {
            return 1;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value is < 1 or > MaxQueues)
        {
            OptionValues.AddError(result, text, expected);
            return 1;
        }

        return value;
    }
}
