using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Tests.Secrets;

public sealed class SecretNamesTests
{
    [Theory]
    [InlineData("prd-db-cluster/AdminLoginInfo", true)]
    [InlineData("a/b_c+d=e.f@g-h", true)]
    [InlineData("Inv Name", false)]
    [InlineData(" Inv*Name? ", false)]
    [InlineData("", false)]
    [InlineData("caf\u00e9", false)]
    public void IsValidName_Cases(string name, bool valid) => Assert.Equal(valid, SecretNames.IsValidName(name));

    [Fact]
    public void IsValidName_513Characters_IsInvalid() => Assert.False(SecretNames.IsValidName(new string('a', 513)));

    [Theory]
    [InlineData("arn:aws:secretsmanager:us-east-1:000000000000:secret:prd/db-AbC123", true, "prd/db-AbC123")]
    [InlineData("arn:aws:secretsmanager:us-east-1:000000000000:secret:prd/db", true, "prd/db")]
    [InlineData("prd/db", false, "")]
    [InlineData("arn:aws:lambda:us-east-1:000000000000:function:f", false, "")]
    public void TryGetArnResource_Cases(string id, bool isArn, string resource)
    {
        Assert.Equal(isArn, SecretNames.TryGetArnResource(id, out var actual));
        Assert.Equal(resource, actual);
    }
}
