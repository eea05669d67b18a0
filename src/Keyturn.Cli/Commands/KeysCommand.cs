using System.CommandLine;
using Keyturn.Application.Security;
using Keyturn.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Keyturn.Cli.Commands;

/// <summary><c>keyturn keys create|list|revoke</c>: access keys with IAM-style policies, managed in the data directory.</summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var command = new Command("keys", "Manage access keys and their policies.");
        command.Subcommands.Add(CreateKey());
        command.Subcommands.Add(ListKeys());
        command.Subcommands.Add(RevokeKey());
        return command;
    }

    private static Command CreateKey()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var name = new Argument<string>("name") { Description = "A user name for the key (it appears in its principal ARN)." };
        var policy = new Option<string>("--policy")
        {
            Description = "IAM policy JSON, or @FILE to read it from a file. Default: full access to secretsmanager:*.",
            DefaultValueFactory = _ => """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}""",
        };
        var tag = new Option<string[]>("--tag")
        {
            Description = "A tag KEY=VALUE on the key (repeatable); policies read it as aws:PrincipalTag/KEY.",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("create", "Create an access key.") { name, policy, tag, dataDir, storeUrl, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(tag) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0 || !tags.TryAdd(pair[..equals], pair[(equals + 1)..]))
                {
                    await Console.Error.WriteLineAsync(equals <= 0
                        ? $"--tag \"{pair}\" must be KEY=VALUE."
                        : $"--tag gives the key \"{pair[..equals]}\" twice.").ConfigureAwait(false);
                    return 2;
                }
            }

            var text = parse.GetValue(policy)!;
            if (text.StartsWith('@'))
            {
                text = await File.ReadAllTextAsync(text[1..], cancellationToken).ConfigureAwait(false);
            }

            using var services = await ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            try
            {
                var created = await services.GetRequiredService<AccessKeyService>().CreateAsync(parse.GetValue(name)!, text, tags, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"Created access key for {created.UserName} (the secret is shown only this once):");
                Console.WriteLine($"  aws_access_key_id = {created.AccessKeyId}");
                Console.WriteLine($"  aws_secret_access_key = {created.SecretAccessKey}");
                return 0;
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    private static Command ListKeys()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var command = new Command("list", "List access keys (never their secrets).") { dataDir, storeUrl, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            var keys = await services.GetRequiredService<AccessKeyService>().ListAsync(cancellationToken).ConfigureAwait(false);
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            Console.WriteLine($"{"ACCESS KEY ID",-22} {"USER",-24} {"CREATED",-22} STATUS");
            foreach (var key in keys)
            {
                var status = key switch
                {
                    { RevokedDate: { } revoked } => $"revoked {revoked:yyyy-MM-ddTHH:mm:ssZ}",
                    { ExpiresDate: { } expires } when expires <= now => $"expired {expires:yyyy-MM-ddTHH:mm:ssZ}",
                    { ExpiresDate: { } expires } => $"active until {expires:yyyy-MM-ddTHH:mm:ssZ}",
                    _ => "active",
                };
                Console.WriteLine($"{key.AccessKeyId,-22} {key.UserName,-24} {key.CreatedDate:yyyy-MM-ddTHH:mm:ssZ}   {status}");
            }

            return 0;
        });
        return command;
    }

    private static Command RevokeKey()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var id = new Argument<string>("access-key-id");
        var command = new Command("revoke", "Revoke an access key; a running server stops accepting it within a second.") { id, dataDir, storeUrl, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            var found = await services.GetRequiredService<AccessKeyService>().RevokeAsync(parse.GetValue(id)!, cancellationToken).ConfigureAwait(false);
            if (!found)
            {
                await Console.Error.WriteLineAsync($"No access key {parse.GetValue(id)}.").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine($"Revoked {parse.GetValue(id)}.");
            return 0;
        });
        return command;
    }

    internal static async Task<ServiceProvider> ServicesAsync(string dataDirectory, string accountId, string? storeLocation, CancellationToken cancellationToken)
    {
        var options = CommonOptions.ServerOptions(dataDirectory, accountId, storeLocation) with { Kms = CommonOptions.Kms() };
        KeyturnServer.RequireMasterKey(options);
        var services = new ServiceCollection();
        services.AddLogging();
        // The master key is checked before root credentials may be generated.
        var store = await KeyturnServer.OpenStoreAsync(options, cancellationToken).ConfigureAwait(false);
        KeyturnServer.AddKeyturn(services, options, CommonOptions.LoadRoot(options.DataDirectory), store);
        return services.BuildServiceProvider();
    }
}
