namespace Keyturn.Domain.Secrets;

/// <summary>
/// One version of a secret. The value itself is opaque here (ciphertext produced by the application
/// layer); a version created by RotateSecret starts without a value until createSecret fills it.
/// </summary>
public sealed class SecretVersion
{
    // Made at the first label: most of a secret's up to 100 versions are deprecated and have none.
    private List<string>? _stages;

    public SecretVersion(string versionId, DateTimeOffset createdDate, bool hasValue = false)
    {
        VersionId = versionId;
        CreatedDate = createdDate;
        HasValue = hasValue;
    }

    public string VersionId { get; }

    public DateTimeOffset CreatedDate { get; }

    /// <summary>Day resolution (UTC midnight), as AWS reports it.</summary>
    public DateTimeOffset? LastAccessedDate { get; set; }

    public IReadOnlyList<string> Stages => (IReadOnlyList<string>?)_stages ?? [];

    /// <summary>False for a rotation placeholder that createSecret has not filled yet.</summary>
    public bool HasValue { get; private set; }

    /// <summary>The encrypted value once loaded or written; stores load it on demand.</summary>
    public StoredValue? Value { get; private set; }

    /// <summary>True when <see cref="SetValue"/> was called since loading, so a store must persist it.</summary>
    public bool ValueChanged { get; private set; }

    public void SetValue(StoredValue value)
    {
        Value = value;
        HasValue = true;
        ValueChanged = true;
    }

    /// <summary>Used by stores to attach a value read from storage.</summary>
    public void LoadValue(StoredValue value)
    {
        Value = value;
        HasValue = true;
    }

    /// <summary>A version with no staging label is deprecated: hidden from default listings and purgeable.</summary>
    public bool IsDeprecated => _stages is null || _stages.Count == 0;

    public bool HasStage(string label)
    {
        if (_stages is null)
        {
            return false;
        }

        foreach (var stage in _stages)
        {
            if (string.Equals(stage, label, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    internal void AddStage(string label)
    {
        if (!HasStage(label))
        {
            (_stages ??= []).Add(label);
        }
    }

    internal bool RemoveStage(string label) => _stages?.Remove(label) == true;

    /// <summary>Used by stores to rebuild a version; bypasses the label rules on purpose.</summary>
    public void RestoreStages(IEnumerable<string> stages)
    {
        _stages?.Clear();
        if (stages is ICollection<string> { Count: 0 })
        {
            return;
        }

        (_stages ??= []).AddRange(stages);
    }
}
