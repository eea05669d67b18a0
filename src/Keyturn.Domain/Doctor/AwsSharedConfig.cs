namespace Keyturn.Domain.Doctor;

/// <summary>
/// The AWS shared config and credentials files as the AWS CLI reads them: <c>[default]</c>, <c>[profile NAME]</c>,
/// <c>[sso-session NAME]</c> and <c>[services NAME]</c> sections in the config file, <c>[NAME]</c> in the
/// credentials file, and indented sub-settings (<c>secretsmanager =</c> then <c>  endpoint_url = …</c>).
/// Sub-settings are kept as <c>parent.key</c>.
/// </summary>
public sealed class AwsSharedConfig
{
    private readonly Dictionary<string, Dictionary<string, string>> _sections;

    private AwsSharedConfig(Dictionary<string, Dictionary<string, string>> sections) => _sections = sections;

    public static AwsSharedConfig Empty { get; } = new([]);

    /// <summary>The settings of a section by its full header ("profile ops", "default", "services dev"), or null.</summary>
    public IReadOnlyDictionary<string, string>? Section(string header) => _sections.GetValueOrDefault(header);

    public bool Has(string header) => _sections.ContainsKey(header);

    /// <summary>Parses the text of a file; lines that are neither a section, a setting nor a comment are ignored, as botocore does.</summary>
    public static AwsSharedConfig Parse(string? text)
    {
        var sections = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(text))
        {
            return new(sections);
        }

        Dictionary<string, string>? current = null;
        string? parent = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed[0] is '#' or ';')
            {
                continue;
            }

            if (trimmed[0] == '[' && trimmed.EndsWith(']'))
            {
                var header = string.Join(' ', trimmed[1..^1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
                current = sections.TryGetValue(header, out var existing) ? existing : sections[header] = new(StringComparer.Ordinal);
                parent = null;
                continue;
            }

            var equals = trimmed.IndexOf('=', StringComparison.Ordinal);
            if (current is null || equals <= 0)
            {
                continue;
            }

            var key = trimmed[..equals].Trim().ToLowerInvariant();
            var value = trimmed[(equals + 1)..].Trim();
            var indented = char.IsWhiteSpace(line[0]);
            if (indented && parent is not null)
            {
                current[$"{parent}.{key}"] = value;
                continue;
            }

            current[key] = value;
            parent = value.Length == 0 ? key : null;
        }

        return new(sections);
    }
}
