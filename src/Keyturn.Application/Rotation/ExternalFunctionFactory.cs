namespace Keyturn.Application.Rotation;

/// <summary>
/// Builds the invokable form of a registered external function. A command function gets a key minted for each
/// invocation (<see cref="RotationCredentials"/>), never a standing one, and its process groups are recorded in
/// <paramref name="running"/> (on disk, so a restart finds those a crash left running).
/// </summary>
public sealed class ExternalFunctionFactory(RotationCredentials credentials, RotationOptions options, FunctionProcessRecords? running = null)
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public IRotationFunction Create(FunctionRecord record) =>
        record.Kind switch
        {
            FunctionKind.Command => new CommandRotationFunction(record, credentials, options, running),
            FunctionKind.Url => new UrlRotationFunction(record, Http),
            _ => throw new InvalidOperationException($"Unknown function kind {record.Kind}."),
        };
}
