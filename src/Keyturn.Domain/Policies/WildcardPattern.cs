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

        var tokens = Tokens;
        if (_plainStars && (!arnSegments || _starsEndSegments))
        {
            return PlainStarsMatch(tokens, value, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
        }

        // The set of positions in the value the pattern read so far can end at, advanced token by token: a run of
        // characters keeps the positions where it matches, a star widens each position to every later one (or, for a
        // star that stays within an ARN segment, up to the next colon). Unlike greedy backtracking this stays
        // correct when some stars may not cross colons, and it costs a pass over the value per token instead of the
        // per-character table this replaced, which was a tenth of a GetSecretValue's server CPU. On the stack for
        // values of ordinary length, so a match allocates nothing.
        var n = value.Length;
        Span<bool> reach = n < StackLimit ? stackalloc bool[n + 1] : new bool[n + 1];
        reach.Clear();
        reach[0] = true;
        int low = 0, high = 0;
        foreach (var token in tokens)
        {
            if (token.IsStar)
            {
                if (!arnSegments || token.EndsSegment)
                {
                    reach[low..].Fill(true);
                    high = n;
                    continue;
                }

                for (var p = low; p <= high; p++)
                {
                    if (!reach[p])
                    {
                        continue;
                    }

                    var end = p;
                    while (end < n && value[end] != ':')
                    {
                        reach[++end] = true;
                    }

                    high = Math.Max(high, end);
                    p = end;
                }

                continue;
            }

            // No run fits after n - length. Then descending, so each position is read before a shorter one marks it.
            var length = token.Length;
            for (var p = Math.Max(low, n - length + 1); p <= high; p++)
            {
                reach[p] = false;
            }

            int newLow = int.MaxValue, newHigh = -1;
            for (var p = Math.Min(high, n - length); p >= low; p--)
            {
                if (reach[p] && RunMatches(token, value.Slice(p, length), ignoreCase, arnSegments))
                {
                    reach[p + length] = true;
                    newLow = p + length;
                    newHigh = Math.Max(newHigh, p + length);
                }

                reach[p] = false;
            }

            if (newHigh < 0)
            {
                return false;
            }

            (low, high) = (newLow, newHigh);
        }

        return reach[n];
    }

    /// <summary>
    /// The classic match for a pattern whose only wildcards are stars that may run anywhere: the first run must start the
    /// value and the last must end it, and each run between goes at its leftmost place after the previous one (leaving
    /// the most room for the rest, which is why that choice never loses a match). Each step is a vectorized compare or
    /// search, where the position set costs a pass per run; a typical policy's resources and actions take this path.
    /// </summary>
    private bool PlainStarsMatch(Token[] tokens, ReadOnlySpan<char> value, StringComparison comparison)
    {
        int first = 0, last = tokens.Length - 1, start = 0, end = value.Length;
        if (!tokens[first].IsStar)
        {
            if (!value.StartsWith(RunOf(tokens[first]), comparison))
            {
                return false;
            }

            start = tokens[first++].Length;
        }

        if (last >= first && !tokens[last].IsStar)
        {
            if (end - start < tokens[last].Length || !value[start..].EndsWith(RunOf(tokens[last]), comparison))
            {
                return false;
            }

            end -= tokens[last--].Length;
        }

        for (var i = first; i <= last; i++)
        {
            if (tokens[i].IsStar)
            {
                continue;
            }

            var at = value[start..end].IndexOf(RunOf(tokens[i]), comparison);
            if (at < 0)
            {
                return false;
            }

            start += at + tokens[i].Length;
        }

        return true;
    }

    private ReadOnlySpan<char> RunOf(Token run) => Text.AsSpan(run.Start, run.Length);

    private Token[]? _tokens;

    // Set with the tokens: no run holds a '?' wildcard; every star ends an ARN segment (or the pattern).
    private bool _plainStars;
    private bool _starsEndSegments;

    /// <summary>The pattern as runs of characters and single stars, split once.</summary>
    private Token[] Tokens => Volatile.Read(ref _tokens) ?? Tokenize();

    private Token[] Tokenize()
    {
        var plain = true;
        for (var i = 0; i < Text.Length; i++)
        {
            plain &= Text[i] != '?' || IsLiteralAt(i);
        }

        var tokens = new List<Token>();
        var runStart = -1;
        for (var i = 0; i <= Text.Length; i++)
        {
            var star = i < Text.Length && Text[i] == '*' && !IsLiteralAt(i);
            if (i < Text.Length && !star)
            {
                runStart = runStart < 0 ? i : runStart;
                continue;
            }

            if (runStart >= 0)
            {
                tokens.Add(new Token(runStart, i - runStart, IsStar: false, EndsSegment: false));
                runStart = -1;
            }

            if (star)
            {
                tokens.Add(new Token(i, 1, IsStar: true, EndsSegment: i == Text.Length - 1 || Text[i + 1] == ':'));
            }
        }

        _plainStars = plain;
        _starsEndSegments = tokens.TrueForAll(t => !t.IsStar || t.EndsSegment);
        Token[] split = [.. tokens];
        Volatile.Write(ref _tokens, split);
        return split;
    }

    private bool RunMatches(Token run, ReadOnlySpan<char> slice, bool ignoreCase, bool arnSegments)
    {
        for (var k = 0; k < slice.Length; k++)
        {
            var i = run.Start + k;
            var p = Text[i];
            var one = p == '?' && !IsLiteralAt(i)
                ? !arnSegments || slice[k] != ':'
                : CharsEqual(p, slice[k], ignoreCase);
            if (!one)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A run of pattern characters (<c>?</c> included) or one unescaped star.</summary>
    private readonly record struct Token(int Start, int Length, bool IsStar, bool EndsSegment);

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
