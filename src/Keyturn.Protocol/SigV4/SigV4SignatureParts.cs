namespace Keyturn.Protocol.SigV4;

/// <summary>The intermediate results of signing, kept for tests and diagnostics.</summary>
internal sealed record SigV4SignatureParts(
    string AmzDate, string CanonicalRequest, string StringToSign, string Signature, string Authorization);
