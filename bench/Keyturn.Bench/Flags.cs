using System.Globalization;

namespace Keyturn.Bench;

/// <summary><c>--name value</c> pairs and bare <c>--switch</c>es; every flag must be read, so typos fail loudly.</summary>
internal sealed class Flags
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public static Flags Parse(IReadOnlyList<string> args)
    {
        var flags = new Flags();
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            }

            var hasValue = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal);
            flags._values[args[i][2..]] = hasValue ? args[++i] : null;
        }

        return flags;
    }

    public string? Text(string name)
    {
        _read.Add(name);
        return _values.TryGetValue(name, out var value) ? value ?? throw new ArgumentException($"--{name} needs a value.") : null;
    }

    public string Text(string name, string fallback) => Text(name) ?? fallback;

    public string Required(string name) => Text(name) ?? throw new ArgumentException($"--{name} is required.");

    public int Int(string name, int fallback, int min = 1) =>
        Text(name) is { } text
            ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min
                ? value
                : throw new ArgumentException($"--{name} must be an integer of at least {min}.")
            : fallback;

    public double Seconds(string name, double fallback) =>
        Text(name) is { } text
            ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw new ArgumentException($"--{name} must be a number of seconds.")
            : fallback;

    public bool Switch(string name)
    {
        _read.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Call after reading every flag the command knows.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException("Unknown flag(s): " + string.Join(", ", unknown.Select(k => "--" + k)));
        }
    }
}
