using Keyturn.Domain.Policies;

namespace Keyturn.Domain.Tests.Policies;

/// <summary>Shared principals, ARNs and builders for the policy tests.</summary>
internal static class PolicyTestData
{
    public const string Account = "000000000000";
    public const string OtherAccount = "111122223333";
    public const string AppUser = "arn:aws:iam::000000000000:user/app";
    public const string OperatorUser = "arn:aws:iam::000000000000:user/operator";
    public const string Root = "arn:aws:iam::000000000000:root";
    public const string AppSecret = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf";
    public const string OpsSecret = "arn:aws:secretsmanager:us-east-1:000000000000:secret:ops/token-123456";

    public static AuthorizationRequest Request(
        string action,
        string resource = AppSecret,
        string principal = AppUser,
        string account = Account,
        IReadOnlyDictionary<string, string>? context = null) =>
        new(principal, account, action, resource, context);

    /// <summary>Wraps statement JSON (one object or several, comma-separated) in a 2012-10-17 document.</summary>
    public static PolicyDocument Policy(string statements) =>
        PolicyDocument.Parse($$"""{"Version": "2012-10-17", "Statement": [{{statements}}]}""");
}
