using System.Globalization;
using System.Text;

namespace Keyturn.Doctor;

/// <summary>
/// What the doctor prints for people comes in part from others: secret names and errors from the server, log lines a
/// rotation function wrote, a database's error messages. Written to a terminal as they are, their control characters
/// (escape sequences that move the cursor, rewrite lines, set the window title or the clipboard; a carriage return;
/// Unicode's direction overrides) could hide or forge what the report says. This writer shows each such character as
/// <c>\u001b</c>-style text instead; only the report's own colours (SGR with the codes it uses) pass.
/// </summary>
internal sealed class TerminalSafeWriter(TextWriter inner) : TextWriter
{
    public override Encoding Encoding => inner.Encoding;

    public override IFormatProvider FormatProvider => inner.FormatProvider;

    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => inner.NewLine;
        set => inner.NewLine = value;
    }

    public override void Write(char value) => inner.Write(TerminalText.Clean(value.ToString()));

    public override void Write(string? value) => inner.Write(value is null ? null : TerminalText.Clean(value));

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine() => inner.WriteLine();

    public override void WriteLine(string? value) => inner.WriteLine(value is null ? null : TerminalText.Clean(value));

    public override void Flush() => inner.Flush();
}

/// <summary>Terminal-safe text (see <see cref="TerminalSafeWriter"/>).</summary>
internal static class TerminalText
{
    // The report's own colours (DoctorReport.Paint): reset, bold, dim, red, green, yellow, cyan, alone or with bold.
    private static readonly HashSet<string> ReportColours = new(StringComparer.Ordinal) { "0", "1", "2", "31", "32", "33", "36", "31;1", "32;1", "33;1" };

    /// <summary>The text with every control character but line feed and tab shown as an escape; the report's colour sequences kept.</summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.AsSpan().ContainsAny(Unsafe))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\u001b' && ColourAt(text, i) is { } length)
            {
                clean.Append(text, i, length);
                i += length - 1;
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                // A line end written as CR LF (Windows' NewLine): the CR moves nothing that the LF doesn't.
                clean.Append(c);
            }
            else if (Unsafe.Contains(c))
            {
                clean.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                clean.Append(c);
            }
        }

        return clean.ToString();
    }

    // C0 controls but tab and line feed, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates.
    private static readonly System.Buffers.SearchValues<char> Unsafe = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Where(c => c is not '\t' and not '\n').Select(c => (char)c),
        .. Enumerable.Range(0x7f, 0x21).Select(c => (char)c),
        .. "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"]);

    /// <summary>The length of the report colour sequence (<c>ESC [ codes m</c>) starting at <paramref name="at"/>, or null.</summary>
    private static int? ColourAt(string text, int at)
    {
        if (at + 2 >= text.Length || text[at + 1] != '[')
        {
            return null;
        }

        var end = text.IndexOf('m', at + 2);
        return end > 0 && end - at <= 8 && ReportColours.Contains(text[(at + 2)..end]) ? end - at + 1 : null;
    }
}
