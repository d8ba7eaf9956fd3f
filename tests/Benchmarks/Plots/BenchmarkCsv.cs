using System.Globalization;

namespace Netmem.Benchmarks.Plots;

/// <summary>
/// Reads the rows of BenchmarkDotNet CSV reports written by <see cref="BenchmarkConfig"/> (semicolon-separated,
/// times in nanoseconds with the unit in the header, e.g. <c>Mean [ns]</c>; numbers may be quoted and carry thousands
/// separators, e.g. <c>"5,323,914.000"</c>).
/// </summary>
public sealed class BenchmarkCsv
{
    private readonly Dictionary<string, int> _columns;
    private readonly List<string[]> _rows;

    private BenchmarkCsv(Dictionary<string, int> columns, List<string[]> rows)
    {
        _columns = columns;
        _rows = rows;
    }

    public IReadOnlyList<string[]> Rows => _rows;

    /// <summary>Loads every <c>*-report.csv</c> in <paramref name="directory"/> that has all the given columns.</summary>
    public static BenchmarkCsv Load(string directory, params string[] requiredColumns)
    {
        Dictionary<string, int>? columns = null;
        var rows = new List<string[]>();
        foreach (string path in Directory.EnumerateFiles(directory, "*-report.csv").Order(StringComparer.Ordinal))
        {
            string[] lines = File.ReadAllLines(path);
            if (lines.Length < 2)
            {
                continue;
            }

            string[] header = lines[0].Split(';');
            var fileColumns = header.Select((name, index) => (name, index)).ToDictionary(c => c.name, c => c.index);
            if (!requiredColumns.All(fileColumns.ContainsKey))
            {
                continue;
            }

            if (columns is not null && !requiredColumns.All(c => columns[c] == fileColumns[c]))
            {
                throw new InvalidDataException($"{path} orders its columns differently from the other reports.");
            }

            columns ??= fileColumns;
            rows.AddRange(lines.Skip(1).Where(line => line.Length > 0).Select(line => line.Split(';')));
        }

        if (columns is null)
        {
            throw new FileNotFoundException($"No *-report.csv in {directory} has the columns {string.Join(", ", requiredColumns)}.");
        }

        return new BenchmarkCsv(columns, rows);
    }

    public string Text(string[] row, string column) => row[_columns[column]].Trim('"');

    public double Number(string[] row, string column) =>
        double.Parse(Text(row, column).Replace(",", string.Empty, StringComparison.Ordinal), NumberStyles.Float, CultureInfo.InvariantCulture);
}
