using System.Text.Json;
using System.Text.Json.Serialization;

namespace Netmem.Chaos;

/// <summary>The machine-readable report: camelCase properties, enums by name, the fault ledger included.</summary>
internal static class ChaosReportJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize(ChaosReport report) => JsonSerializer.Serialize(report, Options);

    public static ChaosReport? Deserialize(string json) => JsonSerializer.Deserialize<ChaosReport>(json, Options);
}
