using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Doctor;

public enum ReachOutcome
{
    Reachable,
    NameNotResolved,
    TimedOut,
    Refused,
}

/// <summary>The DNS and TCP check of the database from where the doctor runs; <paramref name="Detail"/> is the measured evidence.</summary>
public sealed record DatabaseReachability(string Host, int Port, ReachOutcome Outcome, string Detail);

/// <summary>
/// What the doctor's own reachability check says, and about whom. On Keyturn the rotators run beside the doctor, so a
/// database out of reach here is out of reach for the rotation (NET001–NET003). On AWS the rotation function runs in its
/// own network, which the VPC analysis (NET010–NET021) judges: a database out of reach here is a fact about the doctor's
/// host (VNT001, VNT002), and the doctor says where to run instead.
/// </summary>
public static class DoctorVantage
{
    /// <summary>The login probes ran where the database can't be reached, which on AWS is not where the rotation runs.</summary>
    public static bool ProbesBlockedHere(RotationSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot.Platform == RotationPlatform.Aws && snapshot.Reachability is { Outcome: not ReachOutcome.Reachable };
    }

    public static Finding? Finding(RotationSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Reachability is not { } r)
        {
            return null;
        }

        var target = $"{r.Host}:{r.Port}";
        if (r.Outcome == ReachOutcome.Reachable)
        {
            return new Finding("NET000", Severity.Info, $"The database at {target} is reachable{(snapshot.Platform == RotationPlatform.Aws ? " from where the doctor runs" : "")}", r.Detail + ".", "Nothing to do.");
        }

        if (snapshot.Platform == RotationPlatform.Keyturn)
        {
            return r.Outcome switch
            {
                ReachOutcome.NameNotResolved => new Finding("NET001", Severity.Error, $"The database host {r.Host} doesn't resolve", r.Detail + ".",
                    "Fix the host in the secret, or the DNS the rotation uses."),
                ReachOutcome.TimedOut => new Finding("NET002", Severity.Error, $"The database at {target} doesn't answer",
                    r.Detail + " (packets dropped: a firewall, security group or route).",
                    "Open the path from the rotation's network to the database port (security group egress and the database's ingress)."),
                _ => new Finding("NET003", Severity.Error, $"The database at {target} refuses connections", r.Detail + ".",
                    "Check that the database is running and listening on that port."),
            };
        }

        var function = snapshot.FunctionPlacement;
        var whose = function is { InVpc: true }
            ? $"This is about the doctor's host, not the rotation function: {function.FunctionName} runs in {function.VpcId} ({string.Join(", ", function.SubnetIds)}), whose path the NET findings judge"
            : "This is about the doctor's host, not the rotation function, whose path the NET findings judge";
        var (code, title) = r.Outcome == ReachOutcome.NameNotResolved
            ? ("VNT001", $"The doctor can't resolve the database host {r.Host} from where it runs")
            : ("VNT002", $"The doctor can't reach the database at {target} from where it runs");
        return new Finding(code, Severity.Info, title,
            $"{r.Detail}. {whose}; the login probes couldn't decide from here.",
            RunWhereTheFunctionRuns(snapshot, r));
    }

    /// <summary>The exact ways to look from the function's network: the doctor in the VPC, and the function's own testSecret for AWSPENDING.</summary>
    private static string RunWhereTheFunctionRuns(RotationSnapshot s, DatabaseReachability r)
    {
        var region = s.SecretArn.Split(':') is [_, _, _, { Length: > 0 } fromArn, ..] ? fromArn : "<region>";
        var function = s.FunctionPlacement;
        var where = function is { InVpc: true }
            ? $"inside {function.VpcId}: a CloudShell VPC environment (VPC {function.VpcId}, subnet {function.SubnetIds[0]}, security group {string.Join(", ", function.SecurityGroupIds)}, the function's own), "
              + $"or an instance in {string.Join(" or ", function.SubnetIds)} through Session Manager (aws ssm start-session --target <instance-id> --region {region})"
            : $"on a host that reaches {r.Host}:{r.Port} (in the database's VPC: a CloudShell VPC environment, or an instance through Session Manager: aws ssm start-session --target <instance-id> --region {region})";
        var text = $"Run the doctor {where}, then: keyturn doctor {s.Name} --region {region}.";

        // The AWS templates' testSecret only logs in with AWSPENDING (an AWSCURRENT token returns before any step runs).
        var pending = s.Versions.FirstOrDefault(v => v.Has(StagingLabels.Pending) && !v.Has(StagingLabels.Current) && v.HasValue);
        if (pending is not null && s.RotationFunction is { } name)
        {
            text += " Or have the rotation function test AWSPENDING from its own network (testSecret only logs in; nothing changes): "
                + $"aws lambda invoke --function-name {name} --cli-binary-format raw-in-base64-out "
                + $"--payload '{{\"SecretId\":\"{s.SecretArn}\",\"ClientRequestToken\":\"{pending.VersionId}\",\"Step\":\"testSecret\"}}' --region {region} /dev/stdout";
        }

        return text;
    }
}
