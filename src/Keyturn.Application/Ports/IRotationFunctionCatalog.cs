namespace Keyturn.Application.Ports;

/// <summary>
/// The rotation functions Keyturn can invoke, named like Lambda functions. RotateSecret refuses a
/// function this catalog doesn't know, exactly as AWS refuses a Lambda it can't invoke.
/// </summary>
public interface IRotationFunctionCatalog
{
    /// <summary>True when a built-in or registered function has this name (a bare name, not an ARN).</summary>
    Task<bool> ExistsAsync(string functionName, CancellationToken cancellationToken);

    /// <summary>Every function that can be named, built-in and registered, for messages that help pick the right one.</summary>
    Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken);
}
