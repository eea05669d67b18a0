"""boto3: RotateSecret / CancelRotateSecret refusals on a server with no rotation function registered
(spec §3.10-3.11, cases 44, 45): nothing may be persisted by a refused RotateSecret."""

from boto3_common import MARKED_FOR_DELETION, NOT_FOUND, absent, eq, expect_error, run, token, unique

NO_FUNCTION = "No Lambda rotation function ARN is associated with this secret."
CANNOT_INVOKE = ("Secrets Manager cannot invoke the specified Lambda function. "
                 "Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.")


def _secret(c, prefix):
    name = unique(prefix)
    v1 = token()
    c.create_secret(Name=name, SecretString="b3-v1", ClientRequestToken=v1)
    return name, v1


def _unchanged(c, name, v1, what):
    described = c.describe_secret(SecretId=name)
    for member in ("RotationEnabled", "RotationRules", "RotationLambdaARN", "NextRotationDate", "LastRotatedDate"):
        absent(described, member, what)
    eq(described.get("VersionIdsToStages"), {v1: ["AWSCURRENT"]}, f"{what}: VersionIdsToStages")
    eq([v["VersionId"] for v in c.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]], [v1],
       f"{what}: no version was created")


def scenario_case44_no_function_configured(c):
    name, v1 = _secret(c, "b3-c44")
    expect_error("InvalidRequestException", NO_FUNCTION, c.rotate_secret, SecretId=name, RotationRules={"AutomaticallyAfterDays": 1})
    _unchanged(c, name, v1, "case 44: after RotateSecret without a function")
    expect_error("InvalidRequestException", NO_FUNCTION, c.rotate_secret, SecretId=name)
    _unchanged(c, name, v1, "case 44: after RotateSecret(SecretId)")


def scenario_case45_function_not_invokable(c):
    name, v1 = _secret(c, "b3-c45")
    for function in ("arn:aws:lambda:us-east-1:000000000000:function:b3-not-registered",
                     "arn:aws:lambda:us-east-1:123456789012:function:b3-other-account",
                     "b3-not-registered"):
        expect_error("AccessDeniedException", CANNOT_INVOKE, c.rotate_secret, SecretId=name, RotationLambdaARN=function,
                     RotationRules={"AutomaticallyAfterDays": 1})
        _unchanged(c, name, v1, f"case 45: after RotateSecret({function})")
    expect_error("AccessDeniedException", CANNOT_INVOKE, c.rotate_secret, SecretId=name,
                 RotationLambdaARN="arn:aws:lambda:us-east-1:000000000000:function:b3-not-registered",
                 RotationRules={"ScheduleExpression": "rate(10 days)"}, RotateImmediately=False)
    _unchanged(c, name, v1, "case 45: after RotateSecret(RotateImmediately=False)")


def scenario_cancel_rotate_never_configured(c):
    name, v1 = _secret(c, "b3-cancel")
    expect_error("InvalidRequestException", None, c.cancel_rotate_secret, SecretId=name)
    _unchanged(c, name, v1, "after CancelRotateSecret on a never-configured secret")


def scenario_rotate_unknown_or_deleted_secret(c):
    missing = unique("b3-rotate-missing")
    expect_error("ResourceNotFoundException", NOT_FOUND, c.rotate_secret, SecretId=missing, RotationRules={"AutomaticallyAfterDays": 1})
    expect_error("ResourceNotFoundException", NOT_FOUND, c.cancel_rotate_secret, SecretId=missing)
    name, v1 = _secret(c, "b3-rotate-deleted")
    c.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.rotate_secret, SecretId=name, RotationRules={"AutomaticallyAfterDays": 1})
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.cancel_rotate_secret, SecretId=name)


if __name__ == "__main__":
    run(globals())
