using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

/// <summary>The model constraints shared by several operations (botocore checks only the minimums client-side).</summary>
internal static class Members
{
    public static MemberValidator SecretId(this MemberValidator v, string? secretId) =>
        v.Required(secretId, "secretId").Length(secretId, "secretId", 1, 2048);

    public static MemberValidator Token(this MemberValidator v, string? token) =>
        v.Length(token, "clientRequestToken", 32, 64);

    // AWS's quota is 65,536 bytes of value: a SecretString of multi-byte characters reaches it before 65,536 characters.
    public static MemberValidator Value(this MemberValidator v, string? secretString, byte[]? secretBinary) =>
        v.Utf8Length(secretString, "secretString", 1, 65536).Length(secretBinary, "secretBinary", 1, 65536);

    public static MemberValidator VersionId(this MemberValidator v, string? versionId, string member) =>
        v.Length(versionId, member, 32, 64);

    public static MemberValidator Stage(this MemberValidator v, string? stage, string member) =>
        v.Length(stage, member, 1, 256);

    public static MemberValidator Stages(this MemberValidator v, IReadOnlyList<string>? stages) =>
        v.Count(stages, "versionStages", 1, 20).Each(stages, (m, s, name) => m.Required(s, name).Stage(s, name), "versionStages");

    public static MemberValidator Tags(this MemberValidator v, IReadOnlyList<SecretTag>? tags) =>
        v.Each(tags, (m, t, name) => m.Required(t.Key, name + ".key").Length(t.Key, name + ".key", 1, 128).Required(t.Value, name + ".value").Length(t.Value, name + ".value", 0, 256), "tags");
}
