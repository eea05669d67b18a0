using Keyturn.Domain.Policies;

namespace Keyturn.Domain.Tests.Policies;

public sealed class IamUserNameTests
{
    [Theory]
    [InlineData("app-reader", null)]
    [InlineData("a", null)]
    [InlineData("ci+deploy=prod,eu.team@example_1", null)]
    [InlineData("", "Member must have length greater than or equal to 1")]
    [InlineData("app reader", "Member must satisfy regular expression pattern: [\\w+=,.@-]+")]
    [InlineData("app/reader", "Member must satisfy regular expression pattern: [\\w+=,.@-]+")]
    [InlineData("app*", "Member must satisfy regular expression pattern: [\\w+=,.@-]+")]
    [InlineData("caf\u00e9", "Member must satisfy regular expression pattern: [\\w+=,.@-]+")]
    [InlineData("app\n", "Member must satisfy regular expression pattern: [\\w+=,.@-]+")]
    public void Problem_NameFollowsIamRules(string name, string? problem)
    {
        var found = IamUserName.Problem(name);

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.NotNull(found);
            Assert.StartsWith("1 validation error detected: ", found, StringComparison.Ordinal);
            Assert.EndsWith(problem, found, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public void Problem_AtMostSixtyFourCharacters(int length, bool valid)
    {
        Assert.Equal(valid, IamUserName.Problem(new string('u', length)) is null);
    }

    [Theory]
    [InlineData("app-reader", "app-reader", true)]
    [InlineData("TESTUSER", "testuser", true)]
    [InlineData("app-reader", "app-reader2", false)]
    public void SameUser_IgnoresCaseAsIamDoes(string a, string b, bool same)
    {
        Assert.Equal(same, IamUserName.SameUser(a, b));
    }
}
