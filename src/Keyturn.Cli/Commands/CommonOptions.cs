using System.CommandLine;
using Keyturn.Application.Crypto;
using Keyturn.Application.Security;
using Keyturn.Server.Hosting;

namespace Keyturn.Cli.Commands;

internal static class CommonOptions
{
    public static Option<string> DataDir() => new("--data-dir")
    {
        Description = "Directory holding the database, master key and root credentials.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEYTURN_DATA_DIR") ?? "./data",
    };

    /// <summary><c>--store</c>: a directory (the embedded store) or a postgresql:// URL; <c>KEYTURN_STORE</c> when not given.</summary>
    public static Option<string?> Store() => new("--store")
    {
        Description = $"Where the secrets live: a postgresql://USER@HOST:PORT/DB URL shared by several nodes, or a directory for the embedded store (default: --data-dir). Default: ${StorageOptions.EnvironmentVariable}.",
    };

    public static Option<string> AccountId() => new("--account-id")
    {
        Description = "The 12-digit account id used in ARNs.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEYTURN_ACCOUNT_ID") ?? "000000000000",
    };

    /// <summary>KMS through the standard AWS credential chain and endpoint settings, for master keys kept under a KMS key.</summary>
    public static IKmsKeyService Kms() => new AwsKmsKeyService();

    public static RootCredentials LoadRoot(string dataDirectory) => ReadRoot(dataDirectory) ?? RootCredentials.Generate(dataDirectory);

    /// <summary>The root access key from the environment or the data directory, or null before the first start; writes nothing.</summary>
    public static RootCredentials? ReadRoot(string dataDirectory) => RootCredentials.Read(
        dataDirectory,
        Environment.GetEnvironmentVariable(RootCredentials.AccessKeyVariable),
        Environment.GetEnvironmentVariable(RootCredentials.SecretKeyVariable));

    public static ServerOptions ServerOptions(string dataDirectory, string accountId, string? store = null) => new()
    {
        DataDirectory = Path.GetFullPath(dataDirectory),
        AccountId = accountId,
        Store = StorageOptions.Resolve(store, Environment.GetEnvironmentVariable(StorageOptions.EnvironmentVariable)),
    };
}
