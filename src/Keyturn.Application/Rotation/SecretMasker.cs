using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Masks a set of secret values, and the forms a program prints them in, wherever they occur in a text,
/// including inside longer strings (<c>postgresql://app:PW@host</c>, <c>pwd=PW;</c>). The forms are the
/// quoted and escaped ones drivers and servers echo (SQL <c>''</c>, backslash, JSON, URL encoding) and the
/// encodings of the value's UTF-8 bytes (base64 standard and URL-safe, with and without padding, also
/// inside a longer base64 text such as a Basic authorization header; hex in both cases). All patterns are
/// searched in one pass (<see cref="SearchValues{T}"/> of strings, an Aho-Corasick/Teddy search), so a
/// secret with many versions costs no more per line than one with a single version.
/// </summary>
public sealed class SecretMasker
{
    /// <summary>
    /// Values shorter than this are not masked: a secret of three characters or fewer falls to a guess in a
    /// few hundred thousand tries whatever the log says, while masking every "app", "on" or "5" would make
    /// the log unreadable. From four characters on, masking an ordinary word by mistake is the lesser harm.
    /// </summary>
    public const int DefaultMinimumLength = 4;

    /// <summary>
    /// An encoding of the bytes (base64, hex) shorter than this is too likely to occur by chance; for
    /// base64 inside a longer text only the characters that depend on the value alone count, and those
    /// need six (36 bits) before a match means anything.
    /// </summary>
    private const int MinimumEncodedLength = 4;

    private const int MinimumBase64CoreLength = 6;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly SearchValues<string>? _search;
    private readonly Dictionary<char, string[]> _byFirstChar;

    private SecretMasker(HashSet<string> patterns)
    {
        PatternCount = patterns.Count;
        _search = patterns.Count == 0 ? null : SearchValues.Create([.. patterns], StringComparison.Ordinal);

        // Longest first, so where several patterns start at one place the whole of the longest is masked.
        _byFirstChar = patterns.GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Length).ToArray());
    }

    public static SecretMasker Empty { get; } = new([]);

    /// <summary>How many distinct strings (values and their forms) are searched for.</summary>
    public int PatternCount { get; }

    /// <summary>A masker for text values (and their forms) of at least <paramref name="minimumLength"/> characters.</summary>
    public static SecretMasker Create(IEnumerable<string?> values, int minimumLength = DefaultMinimumLength) =>
        Create(values, [], minimumLength);

    /// <summary>A masker for text values and binary values (whose forms are their encodings, and their text when they are UTF-8).</summary>
    public static SecretMasker Create(IEnumerable<string?> values, IEnumerable<byte[]> binaries, int minimumLength = DefaultMinimumLength)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(binaries);
        ArgumentOutOfRangeException.ThrowIfLessThan(minimumLength, 1);
        var patterns = new HashSet<string>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            if (value is not null && value.Length >= minimumLength)
            {
                AddTextForms(patterns, value, minimumLength);
                AddByteForms(patterns, Encoding.UTF8.GetBytes(value));
            }
        }

        foreach (var binary in binaries)
        {
            AddByteForms(patterns, binary);
            if (TryDecodeUtf8(binary) is { } text && text.Length >= minimumLength)
            {
                AddTextForms(patterns, text, minimumLength);
            }
        }

        return new SecretMasker(patterns);
    }

    /// <summary>The text with every occurrence of a value or one of its forms replaced by <paramref name="mask"/>; overlapping or touching occurrences become one mask.</summary>
    public string Mask(string text, string mask)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(mask);
        if (_search is null)
        {
            return text;
        }

        var span = text.AsSpan();
        var at = span.IndexOfAny(_search);
        if (at < 0)
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        var copied = 0;
        var regionStart = at;
        var regionEnd = at;
        while (at >= 0)
        {
            var end = at + LongestMatchAt(span, at);
            if (at > regionEnd)
            {
                result.Append(text, copied, regionStart - copied).Append(mask);
                copied = regionEnd;
                regionStart = at;
            }

            regionEnd = Math.Max(regionEnd, end);

            // Search again from the next character, not the match's end: a pattern that overlaps this one
            // and runs past it must widen the masked region instead of leaving its tail in the clear.
            var next = at + 1;
            var found = next < span.Length ? span[next..].IndexOfAny(_search) : -1;
            at = found < 0 ? -1 : next + found;
        }

        result.Append(text, copied, regionStart - copied).Append(mask).Append(text, regionEnd, text.Length - regionEnd);
        return result.ToString();
    }

    private int LongestMatchAt(ReadOnlySpan<char> text, int at)
    {
        foreach (var pattern in _byFirstChar[text[at]])
        {
            if (text[at..].StartsWith(pattern, StringComparison.Ordinal))
            {
                return pattern.Length;
            }
        }

        // SearchValues reported a match, so one of the patterns starting with this character matches here.
        throw new InvalidOperationException("No pattern matches where the search found one.");
    }

    private static void AddTextForms(HashSet<string> patterns, string value, int minimumLength)
    {
        // A value printed across lines (a PEM key, say) reaches the log one line at a time.
        if (value.Contains('\n', StringComparison.Ordinal))
        {
            foreach (var line in value.Split('\n'))
            {
                var trimmed = line.Trim();
                if (trimmed.Length >= minimumLength && trimmed.Length < value.Length)
                {
                    AddTextForms(patterns, trimmed, minimumLength);
                }
            }
        }

        string[] forms =
        [
            value,

            // SQL string literals, standard and MySQL's backslash form.
            value.Replace("'", "''", StringComparison.Ordinal),
            value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal),

            // JSON string contents: the minimal escaping most serializers use, and .NET's default (\u002B for '+', ...).
            JsonForm(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping),
            JsonForm(value, JavaScriptEncoder.Default),

            // URL encoding: RFC 3986 (upper- and lower-case hex) and HTML forms ('+' for a space).
            Uri.EscapeDataString(value),
            LowerCasePercentEscapes(Uri.EscapeDataString(value)),
            WebUtility.UrlEncode(value),
        ];
        foreach (var form in forms)
        {
            if (form.Length >= minimumLength)
            {
                patterns.Add(form);
            }
        }
    }

    private static void AddByteForms(HashSet<string> patterns, byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return;
        }

        var base64 = Convert.ToBase64String(bytes);
        string[] forms =
        [
            base64,
            base64.TrimEnd('='),
            UrlSafe(base64),
            UrlSafe(base64).TrimEnd('='),
            Convert.ToHexStringLower(bytes),
            Convert.ToHexString(bytes),
        ];
        foreach (var form in forms)
        {
            if (form.Length >= MinimumEncodedLength)
            {
                patterns.Add(form);
            }
        }

        // Inside a longer base64 text (user:password in a Basic header, a whole config file) the value's
        // bytes start at one of three offsets within a 3-byte group; at each offset only the characters that
        // depend on the value's bits alone are fixed, whatever surrounds it.
        for (var offset = 0; offset < 3; offset++)
        {
            var shifted = new byte[offset + bytes.Length];
            bytes.CopyTo(shifted, offset);
            var encoded = Convert.ToBase64String(shifted).TrimEnd('=');
            var skip = offset == 0 ? 0 : offset + 1;
            var fixedLength = shifted.Length * 8 / 6;
            if (fixedLength - skip >= MinimumBase64CoreLength)
            {
                var core = encoded[skip..fixedLength];
                patterns.Add(core);
                patterns.Add(UrlSafe(core));
            }
        }
    }

    private static string JsonForm(string value, JavaScriptEncoder encoder)
    {
        try
        {
            return JsonEncodedText.Encode(value, encoder).Value;
        }
        catch (ArgumentException)
        {
            // Not valid UTF-16 (a lone surrogate): no serializer prints it either.
            return value;
        }
    }

    private static string UrlSafe(string base64) => base64.Replace('+', '-').Replace('/', '_');

    private static string LowerCasePercentEscapes(string escaped)
    {
        if (!escaped.Contains('%', StringComparison.Ordinal))
        {
            return escaped;
        }

        var builder = new StringBuilder(escaped);
        for (var i = 0; i + 2 < builder.Length; i++)
        {
            if (builder[i] == '%')
            {
                builder[i + 1] = char.ToLower(builder[i + 1], CultureInfo.InvariantCulture);
                builder[i + 2] = char.ToLower(builder[i + 2], CultureInfo.InvariantCulture);
            }
        }

        return builder.ToString();
    }

    private static string? TryDecodeUtf8(byte[] bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
