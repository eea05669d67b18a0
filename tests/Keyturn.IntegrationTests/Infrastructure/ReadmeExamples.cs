using System.Text.RegularExpressions;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// The README's examples, read from README.md between their markers, and the comparison of a printed example with what the
/// program prints now: equal except for what differs between runs (ids, ports, times, durations, a secret ARN's suffix).
/// </summary>
public static partial class ReadmeExamples
{
    /// <summary>
    /// The fenced block (<paramref name="language"/>) that follows <c>&lt;!-- MARKER</c> in <paramref name="document"/>
    /// (a path below the repository root, copied beside the tests), up to its closing fence.
    /// </summary>
    public static string Block(string marker, string language = "sh", string document = "README.md")
    {
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, document));
        var start = Array.FindIndex(lines, l => l.StartsWith("<!-- " + marker, StringComparison.Ordinal));
        Assert.True(start >= 0 && lines[start + 1] == "```" + language, $"{document} has no ```{language} block after <!-- {marker}");
        var end = Array.IndexOf(lines, "```", start + 2);
        Assert.True(end > start, $"{document}'s block after <!-- {marker} is not closed");
        return string.Join('\n', lines[(start + 2)..end]) + "\n";
    }

    /// <summary>
    /// Asserts that a README output block (its first line the <c>$ command</c>) shows what <paramref name="printed"/> holds,
    /// once both are normalized; <paramref name="names"/> maps this run's names (a secret, a user) to the README's.
    /// </summary>
    public static void AssertShows(string block, string printed, params (string Run, string Readme)[] names)
    {
        var lines = block.Split('\n');
        Assert.StartsWith("$ ", lines[0], StringComparison.Ordinal);
        foreach (var (run, readme) in names)
        {
            printed = printed.Replace(run, readme, StringComparison.Ordinal);
        }

        var expected = Normalize(string.Join('\n', lines[1..]));
        var actual = Normalize(printed);
        Assert.True(expected == actual, $"The README's example differs from what the doctor prints now. Printed (names replaced):\n{printed}\n\nNormalized README:\n{expected}\n\nNormalized printed:\n{actual}");
    }

    /// <summary>Ids, ports, times and durations as placeholders, runs of spaces as one (column widths follow the names); the version rows sorted (versions created in the same second list in either order).</summary>
    public static string Normalize(string text)
    {
        text = Uuid().Replace(text, "<uuid>");
        text = Ec2Id().Replace(text, "$1-<id>");
        text = LoopbackPort().Replace(text, "127.0.0.1:<port>");
        text = Time().Replace(text, "<time>");
        text = Milliseconds().Replace(text, "<n> ms");
        text = ArnSuffix().Replace(text, "$1-<suffix>");
        text = Spaces().Replace(text, " ");
        var lines = text.Trim('\n').Split('\n').Select(l => l.TrimEnd()).ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            var end = i;
            while (end < lines.Count && lines[end].StartsWith(" <uuid> ", StringComparison.Ordinal))
            {
                end++;
            }

            if (end - i > 1)
            {
                var rows = lines.GetRange(i, end - i).Order(StringComparer.Ordinal).ToList();
                lines.RemoveRange(i, end - i);
                lines.InsertRange(i, rows);
                i = end;
            }
        }

        return string.Join('\n', lines);
    }

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")]
    private static partial Regex Uuid();

    [GeneratedRegex(@"\b(vpc|subnet|sg|nat|rtb|vpce|eni|igw)-[0-9a-f]{8,17}\b")]
    private static partial Regex Ec2Id();

    [GeneratedRegex(@"127\.0\.0\.1:\d+")]
    private static partial Regex LoopbackPort();

    [GeneratedRegex(@"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")]
    private static partial Regex Time();

    [GeneratedRegex(@"\b\d+(\.\d+)? ms\b")]
    private static partial Regex Milliseconds();

    [GeneratedRegex(@"(:secret:[^\s,;]+)-[A-Za-z0-9]{6}\b")]
    private static partial Regex ArnSuffix();

    [GeneratedRegex(" {2,}")]
    private static partial Regex Spaces();
}
