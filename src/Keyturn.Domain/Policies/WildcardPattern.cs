namespace Keyturn.Domain.Policies;

/// <summary>
/// A pattern with IAM's <c>*</c> (any run of characters) and <c>?</c> (one character). Characters that came from
/// a policy variable, including <c>${*}</c> and <c>${?}</c>, are literal, which is why a per-character flag is
/// kept instead of re-escaping the text.
/// </summary>
internal sealed class WildcardPattern
{
    /// <summary>Values up to this length match with the table on the stack; policy values are rarely longer.</summary>
    private const int StackLimit = 512;

    private readonly bool[]? _literal;

    public WildcardPattern(string text, bool[]? literal = null)
    {
        Text = text;
        _literal = literal;
        IsMatchAll = text == "*" && !IsLiteralAt(0);
        for (var i = 0; i < text.Length && !HasWildcards; i++)
        {
            HasWildcards = text[i] is '*' or '?' && !IsLiteralAt(i);
        }
    }

    public string Text { get; }

    /// <summary>True when the pattern is exactly an unescaped "*".</summary>
    public bool IsMatchAll { get; }

    public bool HasWildcards { get; }

    /// <summary>
    /// Matches the whole of <paramref name="value"/>. With <paramref name="arnSegments"/>, wildcards follow the
    /// Resource element's rule: <c>?</c> and a <c>*</c> inside an ARN segment stay within it, while a <c>*</c> that
    /// ends a segment may run across colons.
    /// </summary>
    public bool IsMatch(ReadOnlySpan<char> value, bool ignoreCase, bool arnSegments)
    {
        if (IsMatchAll)
        {
            return true;
        }

        if (!HasWildcards)
        {
            return value.Equals(Text, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        }

        // Suffix dynamic programming: next[j] says whether Text[(i + 1)..] matches value[j..]. Patterns and
        // values are a few hundred characters at most, and unlike greedy backtracking this stays correct
        // when some stars may not cross colons.
        // Both rows live on the stack for values of ordinary length, so a match allocates nothing.
        var n = value.Length;
        Span<bool> next = n < StackLimit ? stackalloc bool[n + 1] : new bool[n + 1];
        Span<bool> current = n < StackLimit ? stackalloc bool[n + 1] : new bool[n + 1];
        next.Clear();
        next[n] = true;
        for (var i = Text.Length - 1; i >= 0; i--)
        {
            var p = Text[i];
            var literal = IsLiteralAt(i);
            if (p == '*' && !literal)
            {
                var crossesColons = !arnSegments || i == Text.Length - 1 || Text[i + 1] == ':';
                current[n] = next[n];
                for (var j = n - 1; j >= 0; j--)
                {
                    current[j] = next[j] || ((crossesColons || value[j] != ':') && current[j + 1]);
                }
            }
            else
            {
                current[n] = false;
                for (var j = n - 1; j >= 0; j--)
                {
                    var one = p == '?' && !literal
                        ? !arnSegments || value[j] != ':'
                        : CharsEqual(p, value[j], ignoreCase);
                    current[j] = one && next[j + 1];
                }
            }

            var swap = next;
            next = current;
            current = swap;
        }

        return next[0];
    }

    private WildcardPattern[]? _arnSegments;

    /// <summary>The six ARN parts ArnEquals/ArnLike match one by one, split once per pattern.</summary>
    public WildcardPattern[] ArnSegments => _arnSegments ??= SplitSegments(6);

    /// <summary>Splits on colons into at most <paramref name="count"/> parts, keeping literal flags (ARN condition operators).</summary>
    public WildcardPattern[] SplitSegments(int count)
    {
        var parts = new List<WildcardPattern>(count);
        var start = 0;
        for (var i = 0; i < Text.Length && parts.Count < count - 1; i++)
        {
            if (Text[i] == ':')
            {
                parts.Add(Slice(start, i - start));
                start = i + 1;
            }
        }

        parts.Add(Slice(start, Text.Length - start));
        return [.. parts];
    }

    private WildcardPattern Slice(int start, int length) =>
        new(Text.Substring(start, length), _literal?[start..(start + length)]);

    private bool IsLiteralAt(int index) => _literal is not null && _literal[index];

    private static bool CharsEqual(char a, char b, bool ignoreCase) =>
        a == b || (ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));
}
