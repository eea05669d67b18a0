using System.Text.Json;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// JSON in a rotation log, turned into the line shapes <see cref="LogAnalyzer"/> reads: Lambda's error document
/// (<c>{"errorMessage", "errorType", "requestId", "stackTrace"}</c> from the console or an Invoke response; Node's
/// <c>Invoke Error</c> line carries one too) and JSON log records (<c>{"level", "message", "requestId", …}</c>).
/// Pure; anything that isn't such a document is left alone.
/// </summary>
internal static class LogJson
{
    // A pasted document longer than this isn't an error document.
    private const int MaxBlockLines = 400;

    /// <summary>The index of the line closing the JSON object opened on line <paramref name="start"/>; null when it doesn't close.</summary>
    public static int? BlockEnd(IReadOnlyList<string> lines, int start)
    {
        var depth = 0;
        var inString = false;
        var escaped = false;
        for (var i = start; i < lines.Count && i - start < MaxBlockLines; i++)
        {
            foreach (var c in lines[i])
            {
                if (inString)
                {
                    (escaped, inString) = escaped ? (false, true) : c == '\\' ? (true, true) : (false, c != '"');
                    continue;
                }

                switch (c)
                {
                    case '"':
                        inString = true;
                        break;
                    case '{':
                        depth++;
                        break;
                    case '}' when --depth == 0:
                        return i;
                }
            }
        }

        return null;
    }

    /// <summary>The lines a JSON document stands for; null when it is no error document or log record.</summary>
    public static IReadOnlyList<string>? Convert(string json)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (Text(root, "errorMessage") is not null || Text(root, "errorType") is not null)
        {
            var summary = ErrorSummary(Text(root, "errorType"), Text(root, "errorMessage"));
            var lines = new List<string>
            {
                Text(root, "requestId") is { Length: > 0 } id ? $"RequestId: {id} Error: {summary}" : $"[ERROR] {summary}",
            };

            // Python's stackTrace entries are whole frames ("  File …, in set_secret\n    set_secret(…)\n"), Node's "stack" lines.
            foreach (var name in new[] { "stackTrace", "stack" })
            {
                if (root.TryGetProperty(name, out var stack) && stack.ValueKind == JsonValueKind.Array)
                {
                    lines.AddRange(stack.EnumerateArray().Where(f => f.ValueKind == JsonValueKind.String)
                        .SelectMany(f => f.GetString()!.Split('\n'))
                        .Where(f => f.Trim().Length > 0)
                        .Select(f => char.IsWhiteSpace(f[0]) ? f.TrimEnd() : "  " + f.TrimEnd()));
                }
            }

            return lines;
        }

        // A structured log record: {"timestamp","level","message","requestId"} (Lambda's JSON log format) or {"level","msg","error"}.
        if (Text(root, "level") is { Length: > 0 } level && (Text(root, "message") ?? Text(root, "msg")) is { } text)
        {
            var error = Text(root, "error") is { Length: > 0 } e ? $": {OneLine(e)}" : "";
            var upper = level.ToUpperInvariant() switch
            {
                "WARNING" => "WARN",
                var other => other,
            };
            return Text(root, "timestamp") is { Length: > 0 } stamp && Text(root, "requestId") is { Length: > 0 } request
                ? [$"[{upper}]\t{stamp}\t{request}\t{OneLine(text)}{error}"]
                : [$"[{upper}] {OneLine(text)}{error}"];
        }

        return null;
    }

    /// <summary>A line ending in an error document (Node's <c>… ERROR\tInvoke Error \t{…}</c>) with the document as "Type: message".</summary>
    public static string? ConvertEmbedded(string line)
    {
        var at = line.IndexOf("{\"error", StringComparison.Ordinal);
        if (at <= 0 || !line.EndsWith('}'))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(line[at..]);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || (Text(root, "errorMessage") is null && Text(root, "errorType") is null))
            {
                return null;
            }

            var prefix = line[..at].TrimEnd();
            if (prefix.EndsWith("Invoke Error", StringComparison.Ordinal) || prefix.EndsWith("Unhandled Promise Rejection", StringComparison.Ordinal))
            {
                var tab = prefix.LastIndexOf('\t');
                prefix = tab > 0 ? prefix[..tab].TrimEnd() : "";
            }

            var summary = ErrorSummary(Text(root, "errorType"), Text(root, "errorMessage"));
            return prefix.Length == 0 ? $"[ERROR] {summary}" : $"{prefix}\t{summary}";
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string ErrorSummary(string? type, string? message) =>
        (type, message) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) => $"{type}: {OneLine(message)}",
            ({ Length: > 0 }, _) => type,
            _ => OneLine(message ?? ""),
        };

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
