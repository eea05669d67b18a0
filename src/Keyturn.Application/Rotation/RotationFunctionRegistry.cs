using Keyturn.Application.Ports;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Resolves <c>RotationLambdaARN</c> (a Lambda-style ARN or a bare name) to a function: the
/// built-in database rotators first, then functions registered with <c>keyturn functions register</c>.
/// </summary>
public sealed class RotationFunctionRegistry(IEnumerable<IRotationFunction> builtIns, ISecretStore store, ExternalFunctionFactory external) : IRotationFunctionCatalog
{
    private readonly Dictionary<string, IRotationFunction> _builtIns = builtIns.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public IEnumerable<string> BuiltInNames => _builtIns.Keys;

    /// <summary>The function name in <c>arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]</c>, or the input when it is a bare name.</summary>
    public static string NameOf(string arnOrName)
    {
        const string marker = ":function:";
        var index = arnOrName.IndexOf(marker, StringComparison.Ordinal);
        if (!arnOrName.StartsWith("arn:", StringComparison.Ordinal) || index < 0)
        {
            return arnOrName;
        }

        var name = arnOrName[(index + marker.Length)..];
        var qualifier = name.IndexOf(':', StringComparison.Ordinal);
        return qualifier >= 0 ? name[..qualifier] : name;
    }

    public bool IsBuiltIn(string functionName) => _builtIns.ContainsKey(functionName);

    public async Task<bool> ExistsAsync(string functionName, CancellationToken cancellationToken) =>
        await ResolveAsync(functionName, cancellationToken).ConfigureAwait(false) is not null;

    public async Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken)
    {
        var registered = await store.ReadAsync(async (session, ct) => await session.ListFunctionsAsync(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return [.. _builtIns.Keys.Order(StringComparer.Ordinal), .. registered.Select(f => f.Name).Order(StringComparer.Ordinal)];
    }

    public async Task<IRotationFunction?> ResolveAsync(string functionArnOrName, CancellationToken cancellationToken)
    {
        var name = NameOf(functionArnOrName);
        if (_builtIns.TryGetValue(name, out var builtIn))
        {
            return builtIn;
        }

        var record = await store.ReadAsync(async (session, ct) => await session.FindFunctionAsync(name, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        return record is null ? null : external.Create(record);
    }
}
