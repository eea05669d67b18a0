namespace Keyturn.Application.Rotation;

/// <summary>
/// Builds the invokable form of a registered external function. A command function gets a key minted for each
/// invocation (<see cref="RotationCredentials"/>), never a standing one.
/// </summary>
public sealed class ExternalFunctionFactory(RotationCredentials credentials, RotationOptions options)
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public IRotationFunction Create(FunctionRecord record) =>
        record.Kind switch
        {
            FunctionKind.Command => new CommandRotationFunction(record, credentials, options.Endpoint, options.CaBundle),
            FunctionKind.Url => new UrlRotationFunction(record, Http),
            _ => throw new InvalidOperationException($"Unknown function kind {record.Kind}."),
        };
}
