namespace Keyturn.Protocol.SigV4;

/// <summary>The result class of a SigV4 verification.</summary>
public enum SigV4Outcome
{
    Success,

    /// <summary>Neither an <c>Authorization</c> header nor <c>X-Amz-Algorithm</c> query parameter.</summary>
    MissingAuthentication,

    /// <summary>The signature parameters are missing or malformed.</summary>
    IncompleteSignature,

    /// <summary>The access key id is not known.</summary>
    UnknownAccessKey,

    /// <summary>The signature, its scope or its signed headers do not check out.</summary>
    SignatureMismatch,

    /// <summary>The request time is too far in the past (or past <c>X-Amz-Expires</c>).</summary>
    Expired,

    /// <summary>The request time is too far in the future.</summary>
    NotYetValid,

    /// <summary>The request date is not in ISO-8601 basic format.</summary>
    InvalidDate,
}
