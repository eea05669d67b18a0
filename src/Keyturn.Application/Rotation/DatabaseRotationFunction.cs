using Keyturn.Application.Operations;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Passwords;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The built-in rotation functions (<c>keyturn-postgresql-single-user</c>, <c>…-alternating-users</c>,
/// and the MySQL/MariaDB pair): AWS's reference algorithm, in process, with the database work done by
/// the <see cref="IDatabaseRotator"/> the registry has for the secret's <c>engine</c> (the doctor probes through the same registry). Unlike the reference functions, every failed login says why
/// (wrong password, unreachable, unknown database, TLS), permanent and transient failures are told
/// apart, and alternating users must have equal privileges before the new user becomes current.
/// </summary>
public sealed class DatabaseRotationFunction(
    string name,
    DatabaseFamily family,
    bool alternatingUsers,
    DatabaseRotators rotators,
    SecretServices services,
    IRandomSource random) : IRotationFunction
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    // testSecret waits this long in total for a new password to propagate (replicas, proxies).
    private static readonly TimeSpan[] PropagationDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    public string Name => name;

    private string Db => family == DatabaseFamily.PostgreSql ? "PostgreSQL DB" : "MySQL DB";

    /// <summary>The built-in functions' names, known without building them (a whole-store copy looks up their policies).</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } =
        ["keyturn-postgresql-single-user", "keyturn-postgresql-alternating-users", "keyturn-mysql-single-user", "keyturn-mysql-alternating-users"];

    public static IReadOnlyList<DatabaseRotationFunction> CreateAll(DatabaseRotators rotators, SecretServices services, IRandomSource random) =>
    [
        new(BuiltInNames[0], DatabaseFamily.PostgreSql, false, rotators, services, random),
        new(BuiltInNames[1], DatabaseFamily.PostgreSql, true, rotators, services, random),
        new(BuiltInNames[2], DatabaseFamily.MySql, false, rotators, services, random),
        new(BuiltInNames[3], DatabaseFamily.MySql, true, rotators, services, random),
    ];

    public async Task InvokeAsync(RotationEvent rotationEvent, InvocationLog log, CancellationToken cancellationToken)
    {
        var arn = rotationEvent.SecretId;
        var token = rotationEvent.ClientRequestToken;

        // Read at every step, so an administrator's change applies to the next step without a restart.
        var policy = await services.Store.ReadAsync(session => session.FindFunctionPolicy(name), cancellationToken).ConfigureAwait(false) ?? FunctionPolicy.Default(name);
        var client = new InProcessSecrets(services, arn, RotationIdentity.Caller(services.Options.AccountId, name, arn, policy));
        if (!await GateAsync(client, arn, token, log, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            switch (rotationEvent.Step)
            {
                case "createSecret":
                    await CreateSecretAsync(client, arn, token, log, cancellationToken).ConfigureAwait(false);
                    break;
                case "setSecret":
                    await SetSecretAsync(client, arn, token, policy, log, cancellationToken).ConfigureAwait(false);
                    break;
                case "testSecret":
                    await TestSecretAsync(client, arn, token, log, cancellationToken).ConfigureAwait(false);
                    break;
                case "finishSecret":
                    await FinishSecretAsync(client, arn, token, log, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    throw Permanent($"lambda_handler: Invalid step parameter {rotationEvent.Step} for secret {arn}");
            }
        }
        catch (DatabaseSecretException e)
        {
            throw Permanent($"{rotationEvent.Step}: {e.Message}");
        }
        catch (RotatorException e)
        {
            throw new RotationStepException($"{rotationEvent.Step}: {e.Message}", !e.IsTransient);
        }
        catch (ServiceException e)
        {
            throw new RotationStepException($"{rotationEvent.Step}: {ErrorCodes.For(e.Kind)}: {e.Message}", e.Kind is not ErrorKind.InternalServiceError);
        }
    }

    /// <summary>The checks every AWS rotation function makes before a step (spec of the templates' lambda_handler).</summary>
    private static async Task<bool> GateAsync(InProcessSecrets client, string arn, string token, InvocationLog log, CancellationToken cancellationToken)
    {
        var metadata = await client.DescribeAsync(cancellationToken).ConfigureAwait(false);
        if (metadata.RotationEnabled != true)
        {
            throw Permanent($"Secret {arn} is not enabled for rotation");
        }

        if (metadata.VersionIdsToStages is null || !metadata.VersionIdsToStages.TryGetValue(token, out var stages))
        {
            throw Permanent($"Secret version {token} has no stage for rotation of secret {arn}.");
        }

        if (stages.Contains(StagingLabels.Current))
        {
            log.Info($"Secret version {token} already set as AWSCURRENT for secret {arn}.");
            return false;
        }

        return stages.Contains(StagingLabels.Pending)
            ? true
            : throw Permanent($"Secret version {token} not set as AWSPENDING for rotation of secret {arn}.");
    }

    private async Task CreateSecretAsync(InProcessSecrets client, string arn, string token, InvocationLog log, CancellationToken cancellationToken)
    {
        var current = DatabaseSecret.Parse((await client.GetAsync(null, StagingLabels.Current, cancellationToken).ConfigureAwait(false)).SecretString ?? "");
        _ = RotatorFor(current);
        try
        {
            await client.GetAsync(token, StagingLabels.Pending, cancellationToken).ConfigureAwait(false);
            log.Info($"createSecret: Successfully retrieved secret for {arn}.");
            return;
        }
        catch (ServiceException e) when (e.Kind == ErrorKind.ResourceNotFound)
        {
            // The placeholder RotateSecret created has no value yet: make one.
        }

        var pending = current.WithPassword(RandomPasswordGenerator.Generate(new PasswordRequest(32, DatabaseSecret.DefaultExcludedCharacters(current.Engine)), random));
        if (alternatingUsers)
        {
            pending = pending.WithUsername(DatabaseSecret.AlternateUsername(current.Username, current.Engine));
        }

        await client.PutPendingAsync(token, pending.ToJson(), cancellationToken).ConfigureAwait(false);
        log.Info($"createSecret: Successfully put secret for ARN {arn} and version {token}.");
    }

    private async Task SetSecretAsync(InProcessSecrets client, string arn, string token, FunctionPolicy policy, InvocationLog log, CancellationToken cancellationToken)
    {
        var current = DatabaseSecret.Parse((await client.GetAsync(null, StagingLabels.Current, cancellationToken).ConfigureAwait(false)).SecretString ?? "");
        var pending = DatabaseSecret.Parse((await client.GetAsync(token, StagingLabels.Pending, cancellationToken).ConfigureAwait(false)).SecretString ?? "");
        var rotator = RotatorFor(current);

        // Pending first: after a crash that followed the password change, this step is already done.
        var pendingProbe = await rotator.ProbeLoginAsync(Connection(pending), ProbeTimeout, cancellationToken).ConfigureAwait(false);
        if (pendingProbe.Outcome == LoginOutcome.Ok)
        {
            log.Info($"setSecret: AWSPENDING secret is already set as password in {Db} for secret arn {arn}.");
            return;
        }

        if (DatabaseEndpoint.Of(pending).DifferenceFrom(DatabaseEndpoint.Of(current)) is { } moved)
        {
            throw Permanent($"setSecret: Attempting to modify user for endpoint {DatabaseEndpoint.Of(pending)} other than current endpoint {DatabaseEndpoint.Of(current)} ({moved})");
        }

        if (alternatingUsers)
        {
            await SetAlternatingAsync(client, rotator, arn, current, pending, policy, log, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (pending.Username != current.Username)
        {
            throw Permanent($"setSecret: Attempting to modify user {pending.Username} other than current user {current.Username}");
        }

        var currentProbe = await rotator.ProbeLoginAsync(Connection(current), ProbeTimeout, cancellationToken).ConfigureAwait(false);
        if (currentProbe.Outcome == LoginOutcome.Ok)
        {
            await rotator.SetOwnPasswordAsync(Connection(current), pending.Password, cancellationToken).ConfigureAwait(false);
            log.Info($"setSecret: Successfully set password for user {pending.Username} in {Db} for secret arn {arn}.");
            return;
        }

        // The previous credentials may still work (state E of the recovery guide): use them, with current's TLS setting.
        LoginProbe? previousProbe = null;
        DatabaseSecret? previous = null;
        try
        {
            previous = DatabaseSecret.Parse((await client.GetAsync(null, StagingLabels.Previous, cancellationToken).ConfigureAwait(false)).SecretString ?? "");
        }
        catch (Exception e) when (e is ServiceException { Kind: ErrorKind.ResourceNotFound } or DatabaseSecretException)
        {
            // No usable previous version.
        }

        if (previous is not null && previous.Username == pending.Username && DatabaseEndpoint.Of(previous) == DatabaseEndpoint.Of(pending))
        {
            var previousConnection = Connection(previous) with { Ssl = Connection(current).Ssl };
            previousProbe = await rotator.ProbeLoginAsync(previousConnection, ProbeTimeout, cancellationToken).ConfigureAwait(false);
            if (previousProbe.Outcome == LoginOutcome.Ok)
            {
                await rotator.SetOwnPasswordAsync(previousConnection, pending.Password, cancellationToken).ConfigureAwait(false);
                log.Info($"setSecret: Successfully set password for user {pending.Username} in {Db} for secret arn {arn} (logged in with the AWSPREVIOUS credentials).");
                return;
            }
        }

        var probes = new List<(string Label, LoginProbe Probe)> { ("pending", pendingProbe), ("current", currentProbe) };
        if (previousProbe is not null)
        {
            probes.Add(("previous", previousProbe));
        }

        // Only when the database itself refused every credential is there nothing to retry.
        var permanent = probes.All(p => p.Probe.Outcome == LoginOutcome.AuthFailed);
        throw new RotationStepException(
            $"setSecret: Unable to log into database with previous, current, or pending secret of secret arn {arn} ({Describe(probes)})", permanent);
    }

    /// <param name="policy">The administrator's settings for this function; <see cref="FunctionPolicy.AllowPrivilegedClone"/> says whether a privileged user may be cloned.</param>
    private async Task SetAlternatingAsync(InProcessSecrets client, IDatabaseRotator rotator, string arn, DatabaseSecret current, DatabaseSecret pending, FunctionPolicy policy, InvocationLog log, CancellationToken cancellationToken)
    {
        if (pending.Username != DatabaseSecret.AlternateUsername(current.Username, current.Engine) && pending.Username != current.Username)
        {
            throw Permanent($"setSecret: Attempting to modify user {pending.Username} other than current user or clone {current.Username}");
        }

        // Protects against a confused deputy: only the holder of working current credentials may rotate, and only
        // on the endpoint the master secret names (checked by MasterAsync below, before the master is used).
        var currentProbe = await rotator.ProbeLoginAsync(Connection(current), ProbeTimeout, cancellationToken).ConfigureAwait(false);
        if (currentProbe.Outcome != LoginOutcome.Ok)
        {
            throw new RotationStepException(
                $"setSecret: Unable to log into database using current credentials for secret {arn} ({Describe([("current", currentProbe)])})",
                currentProbe.Outcome == LoginOutcome.AuthFailed);
        }

        var masterConnection = await MasterAsync(client, arn, current, cancellationToken).ConfigureAwait(false);
        var masterProbe = await rotator.ProbeLoginAsync(masterConnection, ProbeTimeout, cancellationToken).ConfigureAwait(false);
        if (masterProbe.Outcome != LoginOutcome.Ok)
        {
            throw new RotationStepException(
                $"setSecret: Unable to log into database using credentials in master secret {current.MasterArn} ({Describe([("master", masterProbe)])})",
                masterProbe.Outcome == LoginOutcome.AuthFailed);
        }

        // Only the administrator's per-function setting (keyturn functions policy NAME --allow-privileged-clone) may
        // allow privileged users, for both the clone and an existing alternate user.
        var allowPrivilegedRoles = policy.AllowPrivilegedClone;
        if (await rotator.UserExistsAsync(masterConnection, pending.Username, cancellationToken).ConfigureAwait(false))
        {
            // The master can set any user's password, and this one lands in AWSPENDING: a secret naming X whose
            // X_clone is privileged (or naming X_clone whose X is) must not hand that account over to its readers.
            if (!allowPrivilegedRoles
                && await rotator.DescribePrivilegeConcernsAsync(masterConnection, pending.Username, cancellationToken).ConfigureAwait(false) is { Count: > 0 } concerns)
            {
                throw new RotatorException(
                    DatabaseReasons.PrivilegedUser,
                    null,
                    $"Refusing to set the password of {pending.Username}: {string.Join("; ", concerns)}. Whoever reads the pending version would "
                    + "log in with those powers; only an administrator can allow privileged users for this rotation function.");
            }

            await rotator.SetUserPasswordAsync(masterConnection, pending.Username, pending.Password, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await rotator.CloneUserAsync(masterConnection, current.Username, pending.Username, pending.Password, allowPrivilegedRoles, cancellationToken)
                .ConfigureAwait(false);
        }

        log.Info($"setSecret: Successfully set password for {pending.Username} in {Db} for secret arn {arn}.");
    }

    private async Task TestSecretAsync(InProcessSecrets client, string arn, string token, InvocationLog log, CancellationToken cancellationToken)
    {
        var pending = DatabaseSecret.Parse((await client.GetAsync(token, StagingLabels.Pending, cancellationToken).ConfigureAwait(false)).SecretString ?? "");
        var rotator = RotatorFor(pending);
        LoginProbe probe = null!;
        foreach (var delay in PropagationDelays)
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            probe = await rotator.ProbeLoginAsync(Connection(pending), ProbeTimeout, cancellationToken).ConfigureAwait(false);
            if (probe.Outcome == LoginOutcome.Ok)
            {
                break;
            }
        }

        if (probe.Outcome != LoginOutcome.Ok)
        {
            throw new RotationStepException(
                $"testSecret: Unable to log into database with pending secret of secret ARN {arn} ({Describe([("pending", probe)])})",
                probe.Outcome == LoginOutcome.AuthFailed);
        }

        if (alternatingUsers)
        {
            var current = DatabaseSecret.Parse((await client.GetAsync(null, StagingLabels.Current, cancellationToken).ConfigureAwait(false)).SecretString ?? "");
            if (current.Username != pending.Username)
            {
                // Both users must be interchangeable before the new one becomes current (grant drift, AWS issues #38/#56/#175).
                var master = await MasterAsync(client, arn, current, cancellationToken).ConfigureAwait(false);
                var currentPrivileges = await rotator.DescribePrivilegesAsync(master, current.Username, cancellationToken).ConfigureAwait(false);
                var pendingPrivileges = await rotator.DescribePrivilegesAsync(master, pending.Username, cancellationToken).ConfigureAwait(false);
                var missing = currentPrivileges.Except(pendingPrivileges, StringComparer.Ordinal).ToList();
                var extra = pendingPrivileges.Except(currentPrivileges, StringComparer.Ordinal).ToList();
                if (missing.Count > 0 || extra.Count > 0)
                {
                    throw Permanent($"testSecret: users {current.Username} and {pending.Username} have different privileges; refusing to finish. " +
                        $"Only {current.Username}: [{string.Join("; ", missing)}]. Only {pending.Username}: [{string.Join("; ", extra)}].");
                }

                log.Info($"testSecret: {current.Username} and {pending.Username} have the same {currentPrivileges.Count} privileges.");
            }
        }

        log.Info($"testSecret: Successfully signed into {Db} with AWSPENDING secret in {arn}.");
    }

    private static async Task FinishSecretAsync(InProcessSecrets client, string arn, string token, InvocationLog log, CancellationToken cancellationToken)
    {
        var metadata = await client.DescribeAsync(cancellationToken).ConfigureAwait(false);
        var current = metadata.VersionIdsToStages!.FirstOrDefault(p => p.Value.Contains(StagingLabels.Current)).Key;
        if (current == token)
        {
            log.Info($"finishSecret: Version {token} already marked as AWSCURRENT for {arn}");
            return;
        }

        // A compare-and-swap: it fails if AWSCURRENT moved since it was read.
        await client.MoveCurrentAsync(current, token, cancellationToken).ConfigureAwait(false);
        log.Info($"finishSecret: Successfully set AWSCURRENT stage to version {token} for secret {arn}.");
    }

    private async Task<DatabaseSecret> MasterSecretAsync(InProcessSecrets client, string arn, DatabaseSecret current, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(current.MasterArn))
        {
            throw Permanent($"setSecret: the secret {arn} has no 'masterarn' field, which the alternating-users strategy needs.");
        }

        DatabaseSecret master;
        try
        {
            master = DatabaseSecret.Parse((await client.GetAsync(current.MasterArn, null, StagingLabels.Current, cancellationToken).ConfigureAwait(false)).SecretString ?? "");
        }
        catch (ServiceException e) when (e.Kind == ErrorKind.AccessDenied)
        {
            // The function reads a master only when an administrator allowed it for this function.
            throw Permanent($"setSecret: The rotation function {name} is not allowed to read the master secret {current.MasterArn} ({e.Message}). " +
                $"An administrator allows it with: keyturn functions policy {name} --allow-master '{current.MasterArn}'");
        }
        catch (ServiceException e)
        {
            throw Permanent($"setSecret: Unable to read the master secret {current.MasterArn}: {ErrorCodes.For(e.Kind)}: {e.Message}");
        }

        if (DatabaseEndpoint.Of(master).DifferenceFrom(DatabaseEndpoint.Of(current)) is { } difference)
        {
            throw Permanent($"setSecret: The master secret {current.MasterArn} names {DatabaseEndpoint.Of(master)}, not the endpoint {DatabaseEndpoint.Of(current)} of secret {arn} ({difference}); refusing to use it.");
        }

        return master;
    }

    /// <summary>The master's connection, logged in to the child's database as the reference functions do.</summary>
    private async Task<DatabaseConnection> MasterAsync(InProcessSecrets client, string arn, DatabaseSecret current, CancellationToken cancellationToken) =>
        Connection(await MasterSecretAsync(client, arn, current, cancellationToken).ConfigureAwait(false)) with { DbName = current.DbName };

    /// <summary>The rotator for the secret's <c>engine</c>, from the registry; this function serves one engine family.</summary>
    private IDatabaseRotator RotatorFor(DatabaseSecret secret)
    {
        var expected = family == DatabaseFamily.PostgreSql ? DatabaseSecret.Postgres : DatabaseSecret.MySql;
        if (secret.Engine != expected)
        {
            throw Permanent($"Database engine must be set to '{expected}' in order to use this rotation function (the secret says '{secret.Engine}').");
        }

        return rotators.For(secret);
    }

    private static DatabaseConnection Connection(DatabaseSecret secret) => DatabaseConnection.FromSecret(secret);

    private static string Describe(IEnumerable<(string Label, LoginProbe Probe)> probes) =>
        string.Join("; ", probes.Select(p => $"{p.Label}: {p.Probe.Reason}{(p.Probe.DriverCode is { } code ? $" [{code}]" : "")} after {p.Probe.Elapsed.TotalMilliseconds:F0} ms"));

    private static RotationStepException Permanent(string message) => new(message, permanent: true);
}

public enum DatabaseFamily
{
    PostgreSql,
    MySql,
}
