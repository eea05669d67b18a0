namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>
/// One case of AWS's Signature Version 4 test suite: the request as the suite writes it, the canonical request,
/// the string to sign and the Authorization header AWS expects.
/// </summary>
public sealed record SigV4TestSuiteVector(
    string Name, string Request, string CanonicalRequest, string StringToSign, string Authorization, string? SessionToken = null)
{
    public override string ToString() => Name;
}
