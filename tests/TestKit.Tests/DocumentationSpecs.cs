using System.Text.RegularExpressions;
using Xunit;

namespace Netmem.TestKit.Tests;

public sealed class DocumentationSpecs
{
    [Fact]
    public void The_README_sample_in_testing_your_consumers_is_the_test_that_is_compiled_and_run()
    {
        string document = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md")).ReplaceLineEndings("\n");
        string sample = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestingYourConsumersSample.cs")).ReplaceLineEndings("\n");
        string code = sample[(sample.IndexOf('\n') + 1)..].TrimEnd();

        Assert.Contains("```csharp\n" + code + "\n```", document);
    }

    [Fact]
    public void Every_relative_link_in_the_repository_s_markdown_files_resolves_inside_the_repository()
    {
        string root = RepositoryRoot();
        var broken = new List<string>();
        IEnumerable<string> documents = Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories)
            .Where(path => !Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git"));
        foreach (string document in documents)
        {
            foreach (Match link in Regex.Matches(File.ReadAllText(document), @"\]\(([^)\s]+)\)"))
            {
                string target = link.Groups[1].Value;
                if (target.StartsWith('#') || Regex.IsMatch(target, "^[a-z]+:"))
                {
                    continue;
                }

                string path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, target.Split('#')[0]));
                if (!path.StartsWith(root, StringComparison.Ordinal) || !(File.Exists(path) || Directory.Exists(path)))
                {
                    broken.Add($"{Path.GetRelativePath(root, document)}: {target}");
                }
            }
        }

        Assert.Empty(broken);
    }

    [Fact]
    public void No_markdown_file_links_outside_the_repository()
    {
        string root = RepositoryRoot();
        var external = Directory.EnumerateFiles(root, "*.md", SearchOption.AllDirectories)
            .Where(path => !Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or ".git"))
            .SelectMany(document => Regex.Matches(File.ReadAllText(document), @"\]\((https?:[^)\s]+)\)").Select(m => $"{Path.GetRelativePath(root, document)}: {m.Groups[1].Value}"))
            .ToList();

        Assert.Empty(external);
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Actors.sln")))
            {
                return directory.FullName + Path.DirectorySeparatorChar;
            }
        }

        throw new InvalidOperationException($"No Actors.sln above {AppContext.BaseDirectory}: the specs run from inside the repository.");
    }
}
