using System.CommandLine.Parsing;

namespace Netmem.Chaos;

/// <summary>Reading one option's value and reporting a bad one in words: shared by every command's parsers.</summary>
internal static class OptionValues
{
    /// <summary>The option's single value, or an error saying a value is needed (the arity lets the parser call us without one).</summary>
    public static bool TryGetToken(ArgumentResult result, string expected, out string text)
    {
        if (result.Tokens.Count == 0)
        {
            result.AddError($"{OptionName(result)} needs a value: {expected}.");
            text = string.Empty;
            return false;
        }

        text = result.Tokens[0].Value.Trim();
        return true;
    }

    /// <summary>Says which option got which value and what it expects.</summary>
    public static void AddError(ArgumentResult result, string text, string expected) =>
        result.AddError($"{OptionName(result)} '{text}' is not valid: expected {expected}.");

    /// <summary>The option's name as the user typed it.</summary>
    public static string OptionName(ArgumentResult result) =>
        result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
}
