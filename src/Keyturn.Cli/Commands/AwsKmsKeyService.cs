using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Keyturn.Application.Crypto;

namespace Keyturn.Cli.Commands;

/// <summary>
/// AWS KMS through the SDK's standard credential chain (environment, profiles, SSO, container and instance metadata)
/// and region resolution; <c>AWS_ENDPOINT_URL_KMS</c> (or <c>AWS_ENDPOINT_URL</c>) points it at another endpoint. The
/// client is made on first use, so commands that never meet a KMS-wrapped key never resolve credentials.
/// </summary>
internal sealed class AwsKmsKeyService : IKmsKeyService, IDisposable
{
    private readonly Lazy<AmazonKeyManagementServiceClient> _client = new(Create);

    public async Task<(byte[] Plaintext, byte[] CiphertextBlob)> GenerateDataKeyAsync(string kmsKeyId, CancellationToken cancellationToken)
    {
        var response = await _client.Value.GenerateDataKeyAsync(new GenerateDataKeyRequest { KeyId = kmsKeyId, KeySpec = DataKeySpec.AES_256 }, cancellationToken).ConfigureAwait(false);
        return (response.Plaintext.ToArray(), response.CiphertextBlob.ToArray());
    }

    // KeyId is passed so KMS refuses a blob that some other key (perhaps one an attacker controls) would decrypt.
    public async Task<byte[]> DecryptAsync(string kmsKeyId, byte[] ciphertextBlob, CancellationToken cancellationToken)
    {
        using var blob = new MemoryStream(ciphertextBlob, writable: false);
        var response = await _client.Value.DecryptAsync(new DecryptRequest { KeyId = kmsKeyId, CiphertextBlob = blob }, cancellationToken).ConfigureAwait(false);
        return response.Plaintext.ToArray();
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    private static AmazonKeyManagementServiceClient Create()
    {
        var config = new AmazonKeyManagementServiceConfig();
        var endpoint = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_KMS");
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            // The SDK reads this too; setting it here keeps it working where the SDK's own lookup is switched off.
            config.ServiceURL = endpoint;
        }

        return new AmazonKeyManagementServiceClient(config);
    }
}
