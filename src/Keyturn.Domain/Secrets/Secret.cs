namespace Keyturn.Domain.Secrets;

/// <summary>
/// A secret with its metadata and versions (values stay encrypted). Mutated only through
/// <see cref="StageRules"/> for labels, so the label invariants hold wherever it is used.
/// </summary>
public sealed class Secret
{
    private readonly List<SecretVersion> _versions = [];

    public Secret(string arn, string name, string region, DateTimeOffset createdDate)
    {
        Arn = arn;
        Name = name;
        Region = region;
        CreatedDate = createdDate;
        LastChangedDate = createdDate;
    }

    /// <summary>Store-assigned identity; 0 until first saved.</summary>
    public long StoreId { get; set; }

    public string Arn { get; }

    public string Name { get; }

    public string Region { get; }

    public string? Description { get; set; }

    public string? KmsKeyId { get; set; }

    public string? Type { get; set; }

    public DateTimeOffset CreatedDate { get; }

    public DateTimeOffset LastChangedDate { get; set; }

    public DateTimeOffset? LastAccessedDate { get; set; }

    /// <summary>When DeleteSecret was called; null while the secret is live.</summary>
    public DateTimeOffset? DeletedDate { get; set; }

    /// <summary>When a scheduled deletion becomes permanent.</summary>
    public DateTimeOffset? DeletionDate { get; set; }

    /// <summary>Null until the secret is first tagged; an empty list after all tags were removed (AWS shows <c>[]</c> then).</summary>
    public List<SecretTag>? Tags { get; set; }

    public RotationConfiguration? Rotation { get; set; }

    public DateTimeOffset? LastRotatedDate { get; set; }

    public DateTimeOffset? NextRotationDate { get; set; }

    public string? ResourcePolicy { get; set; }

    public bool IsDeleted => DeletedDate is not null;

    public IReadOnlyList<SecretVersion> Versions => _versions;

    // Loops, not List.Find with a lambda: these run several times per value write, and each capture was a closure and a delegate.
    public SecretVersion? FindVersion(string versionId)
    {
        foreach (var version in _versions)
        {
            if (string.Equals(version.VersionId, versionId, StringComparison.Ordinal))
            {
                return version;
            }
        }

        return null;
    }

    public SecretVersion? HolderOf(string label)
    {
        foreach (var version in _versions)
        {
            if (version.HasStage(label))
            {
                return version;
            }
        }

        return null;
    }

    public int DistinctLabelCount()
    {
        var count = 0;
        foreach (var version in _versions)
        {
            count += version.Stages.Count;
        }

        // A label has at most one holder, so the sum is the number of distinct labels.
        return count;
    }

    public void AddVersion(SecretVersion version) => _versions.Add(version);

    /// <summary>
    /// The same secret with every member but its versions, on its own: changing the copy (its tags included) leaves this
    /// one as it is. A store that keeps a loaded secret hands out copies of it; a member added here must be copied too.
    /// </summary>
    public Secret CopyWithoutVersions() => new(Arn, Name, Region, CreatedDate)
    {
        StoreId = StoreId,
        Description = Description,
        KmsKeyId = KmsKeyId,
        Type = Type,
        LastChangedDate = LastChangedDate,
        LastAccessedDate = LastAccessedDate,
        DeletedDate = DeletedDate,
        DeletionDate = DeletionDate,
        Tags = Tags is null ? null : [.. Tags],
        Rotation = Rotation,
        LastRotatedDate = LastRotatedDate,
        NextRotationDate = NextRotationDate,
        ResourcePolicy = ResourcePolicy,
    };

    public bool RemoveVersion(SecretVersion version) => _versions.Remove(version);
}
