using System.Reflection;
using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Tests.Secrets;

/// <summary>
/// A store that keeps loaded secrets hands out <see cref="Secret.CopyWithoutVersions"/> copies: a member the copy forgets
/// would read back as its default from that store only, so every settable member is checked here by reflection.
/// </summary>
public sealed class SecretCopyTests
{
    private static readonly DateTimeOffset Created = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public void The_copy_has_every_member_but_the_versions_and_its_own_tag_list()
    {
        var secret = new Secret("arn:aws:secretsmanager:eu-west-1:111122223333:secret:app-AbCdEf", "app", "eu-west-1", Created);
        var settable = typeof(Secret).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }).ToList();
        for (var i = 0; i < settable.Count; i++)
        {
            settable[i].SetValue(secret, SampleOf(settable[i].PropertyType, i));
        }

        secret.AddVersion(new SecretVersion("v1", Created));

        var copy = secret.CopyWithoutVersions();

        foreach (var property in typeof(Secret).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != nameof(Secret.Versions)))
        {
            var expected = property.GetValue(secret);
            var actual = property.GetValue(copy);
            Assert.True(
                expected is List<SecretTag> tags ? tags.SequenceEqual((List<SecretTag>)actual!) : Equals(expected, actual),
                $"{property.Name} was not copied");
        }

        Assert.Empty(copy.Versions);
        Assert.NotSame(secret.Tags, copy.Tags);
    }

    private static object SampleOf(Type type, int seed)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying switch
        {
            _ when underlying == typeof(string) => $"value {seed}",
            _ when underlying == typeof(long) => 1000L + seed,
            _ when underlying == typeof(DateTimeOffset) => Created.AddDays(seed + 1),
            _ when underlying == typeof(List<SecretTag>) => new List<SecretTag> { new($"key{seed}", $"value{seed}") },
            _ when underlying == typeof(RotationConfiguration) => new RotationConfiguration(true, $"fn{seed}", seed, null, null),
            _ => throw new InvalidOperationException($"No sample value for {type}: add one so the copy is checked for it."),
        };
    }
}
