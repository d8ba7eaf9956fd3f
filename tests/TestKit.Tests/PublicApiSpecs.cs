using System.Reflection;
using Xunit;

namespace Netmem.TestKit.Tests;

/// <summary>
/// The kit's public surface is exactly what Actors/TestKit/PublicAPI.Shipped.txt lists: a public change is made
/// deliberately, by editing that file in the same commit.
/// </summary>
public sealed class PublicApiSpecs
{
    [Fact]
    public void The_public_api_is_exactly_the_shipped_list()
    {
        string[] shipped = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "PublicAPI.Shipped.txt"))
            .Where(line => line.Length > 0 && !line.StartsWith('#')).ToArray();
        string[] actual = Surface(typeof(DeviceUnderTest).Assembly);

        string[] added = actual.Except(shipped).ToArray();
        string[] removed = shipped.Except(actual).ToArray();
        Assert.True(added.Length == 0 && removed.Length == 0,
            $"The public API changed. Not in PublicAPI.Shipped.txt:{Environment.NewLine}{string.Join(Environment.NewLine, added)}"
            + $"{Environment.NewLine}Listed but gone:{Environment.NewLine}{string.Join(Environment.NewLine, removed)}");
    }

    private static string[] Surface(Assembly assembly) =>
        assembly.GetExportedTypes()
            .SelectMany(type => new[] { $"{Kind(type)} {type.FullName}" }.Concat(type
                .GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                .Where(member => member is not MethodInfo { IsSpecialName: true } || member.Name.StartsWith("op_", StringComparison.Ordinal))
                .Select(member => $"{type.FullName}: {member}")))
            .Order(StringComparer.Ordinal)
            .ToArray();

    private static string Kind(Type type) => type.IsEnum ? "enum" : type.IsValueType ? "struct" : type.IsInterface ? "interface" : "class";
}
