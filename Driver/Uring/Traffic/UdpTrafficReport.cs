namespace Netmem.Uring.Traffic;

/// <summary>What a generator run did.</summary>
/// <param name="Sent">Datagrams the sockets accepted.</param>
/// <param name="SendErrors">Sends the sockets refused (buffer full, no route); they are not retried.</param>
/// <param name="Elapsed">How long the run took.</param>
/// <param name="SourcePorts">The source port of each flow, in flow order.</param>
public sealed record UdpTrafficReport(long Sent, long SendErrors, TimeSpan Elapsed, IReadOnlyList<int> SourcePorts);
