using System.CommandLine;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Microsoft.Extensions.DependencyInjection;

namespace Keyturn.Cli.Commands;

/// <summary><c>keyturn rotations</c>: each rotating secret's state: last success, next date, step in progress, last failure.</summary>
internal static class RotationsCommand
{
    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var command = new Command("rotations", "Show every secret's rotation state.") { dataDir, storeUrl, accountId };
        command.Aliases.Add("status");
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await KeysCommand.ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            var store = services.GetRequiredService<ISecretStore>();
            var rows = await store.ReadAsync(async (session, ct) =>
            {
                var secrets = new List<Keyturn.Domain.Secrets.Secret>(await session.ListRotationEnabledAsync(ct).ConfigureAwait(false));
                foreach (var rotation in await session.ListRotationsAsync(null, openOnly: false, ct).ConfigureAwait(false))
                {
                    if (await session.FindByArnAsync(rotation.SecretArn, ct).ConfigureAwait(false) is { } secret)
                    {
                        secrets.Add(secret);
                    }
                }

                var rows = new List<(Keyturn.Domain.Secrets.Secret Secret, IReadOnlyList<RotationRecord> Rotations)>();
                foreach (var secret in secrets.DistinctBy(s => s.Arn).OrderBy(s => s.Name, StringComparer.Ordinal))
                {
                    rows.Add((secret, await session.ListRotationsAsync(secret.Arn, openOnly: false, ct).ConfigureAwait(false)));
                }

                return rows;
            }, cancellationToken).ConfigureAwait(false);

            Console.WriteLine($"{"SECRET",-36} {"ENABLED",-7} {"LAST SUCCESS",-20} {"NEXT",-20} {"STATE",-24} LAST FAILURE");
            foreach (var (secret, rotations) in rows)
            {
                var latest = rotations.FirstOrDefault();
                var state = latest is null ? "-" : latest.Status.IsOpen() ? $"{latest.Status.ToString().ToLowerInvariant()} {latest.Step?.WireName() ?? ""}".Trim() : latest.Status.ToString().ToLowerInvariant();
                var failure = rotations.FirstOrDefault(r => r.Status is RotationStatus.Failed or RotationStatus.Retrying or RotationStatus.Abandoned && r.Reason is not null);
                Console.WriteLine($"{secret.Name,-36} {(secret.Rotation?.Enabled == true ? "yes" : "no"),-7} {Format(secret.LastRotatedDate),-20} {Format(secret.NextRotationDate),-20} {state,-24} {(failure is null ? "-" : $"{Format(failure.UpdatedAt)} {failure.Reason}")}");
            }

            return 0;
        });
        return command;
    }

    private static string Format(DateTimeOffset? date) => date is { } d ? d.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) : "-";
}
