using Keyturn.Application.Crypto;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Builds the invokable form of a registered external function. A command or handler function gets a key minted for
/// each invocation (<see cref="RotationCredentials"/>), never a standing one, and its environment variables opened
/// with the master key; a handler runs in the warm workers of <paramref name="workers"/>.
/// </summary>
public sealed class ExternalFunctionFactory(RotationCredentials credentials, RotationOptions options, EnvelopeCipher? cipher = null, HandlerWorkerPool? workers = null)
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public IRotationFunction Create(FunctionRecord record) =>
        record.Kind switch
        {
            FunctionKind.Command => new CommandRotationFunction(record, credentials, options.Endpoint, options.CaBundle, FunctionService.OpenEnvironment(record, cipher)),
            FunctionKind.Url => new UrlRotationFunction(record, Http),
            FunctionKind.Handler => new HandlerRotationFunction(record, FunctionService.OpenEnvironment(record, cipher), credentials,
                workers ?? throw new InvalidOperationException("Handler functions run in a worker pool, which this factory was not given."), options.Endpoint, options.CaBundle),
            _ => throw new InvalidOperationException($"Unknown function kind {record.Kind}."),
        };
}
