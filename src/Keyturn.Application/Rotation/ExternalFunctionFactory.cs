using System.Text;
using Keyturn.Application.Crypto;

namespace Keyturn.Application.Rotation;

/// <summary>Builds the invokable form of a registered external function, with its own access key.</summary>
public sealed class ExternalFunctionFactory(EnvelopeCipher cipher, RotationOptions options)
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    public IRotationFunction Create(FunctionRecord record)
    {
        var credentials = record.AccessKeyId is { } id && record.EncryptedSecretAccessKey is { } sealedSecret
            ? (id, Encoding.UTF8.GetString(cipher.Decrypt(sealedSecret, FunctionService.KeyContext(record.Name))))
            : ((string, string)?)null;
        return record.Kind switch
        {
            FunctionKind.Command => new CommandRotationFunction(record, credentials, options.Endpoint, options.CaBundle),
            FunctionKind.Url => new UrlRotationFunction(record, Http),
            _ => throw new InvalidOperationException($"Unknown function kind {record.Kind}."),
        };
    }
}
