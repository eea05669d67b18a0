"""boto3: ClientRequestToken idempotency (spec §4.4, cases 6, 7, 34), as SDK retries and rotation functions rely on it."""

from boto3_common import body, eq, eq_versions, expect_error, run, token, unique


def _in_use(t, arn):
    return f"You can't use ClientRequestToken {t} because that value is already in use for a version of secret {arn}."


def scenario_case06_07_create_retry(c):
    name = unique("b3-c06")
    t = token()
    first = body(c.create_secret(Name=name, SecretString="Hello", ClientRequestToken=t))
    again = body(c.create_secret(Name=name, SecretString="Hello", ClientRequestToken=t))
    eq(again, first, "case 6: CreateSecret retried with the same token and value returns the same response")
    eq_versions(c, name, {t: ["AWSCURRENT"]}, "case 6: still one version", include_deprecated=True)
    expect_error("ResourceExistsException", _in_use(t, first["ARN"]), c.create_secret, Name=name, SecretString="Hi", ClientRequestToken=t)
    eq(c.get_secret_value(SecretId=name)["SecretString"], "Hello", "case 7: value unchanged")


def scenario_case34_put_and_update_retry(c):
    name = unique("b3-c34")
    t = token()
    arn = c.create_secret(Name=name, SecretString="Hello", ClientRequestToken=t)["ARN"]

    put = c.put_secret_value(SecretId=name, SecretString="Hello", ClientRequestToken=t)
    eq((put["VersionId"], put["VersionStages"]), (t, ["AWSCURRENT"]), "case 34: PutSecretValue(t, same value) (VersionId, VersionStages)")
    eq_versions(c, name, {t: ["AWSCURRENT"]}, "case 34: no new version from the retried PutSecretValue", include_deprecated=True)
    expect_error("ResourceExistsException", _in_use(t, arn), c.put_secret_value, SecretId=name, SecretString="Hi", ClientRequestToken=t)

    updated = c.update_secret(SecretId=name, SecretString="Hello", ClientRequestToken=t)
    eq(updated.get("VersionId"), t, "case 34: UpdateSecret(t, same value) VersionId")
    eq_versions(c, name, {t: ["AWSCURRENT"]}, "case 34: no new version from the retried UpdateSecret", include_deprecated=True)
    expect_error("ResourceExistsException", _in_use(t, arn), c.update_secret, SecretId=name, SecretString="Hi", ClientRequestToken=t)
    eq(c.get_secret_value(SecretId=name)["SecretString"], "Hello", "case 34: value unchanged")


def scenario_retry_of_an_older_version(c):
    # Replaying a token of a version that is no longer current returns that version's labels, moving nothing.
    name = unique("b3-retry-old")
    t1 = token()
    c.create_secret(Name=name, SecretString="b3-one", ClientRequestToken=t1)
    t2 = token()
    c.put_secret_value(SecretId=name, SecretString="b3-two", ClientRequestToken=t2)
    replay = c.put_secret_value(SecretId=name, SecretString="b3-one", ClientRequestToken=t1)
    eq((replay["VersionId"], replay["VersionStages"]), (t1, ["AWSPREVIOUS"]), "replayed PutSecretValue of the previous version")
    eq_versions(c, name, {t1: ["AWSPREVIOUS"], t2: ["AWSCURRENT"]}, "labels untouched by the replay", include_deprecated=True)


def scenario_binary_retry(c):
    name = unique("b3-retry-bin")
    t = token()
    c.create_secret(Name=name, SecretBinary=b"\x00\x01\x02\xff", ClientRequestToken=t)
    put = c.put_secret_value(SecretId=name, SecretBinary=b"\x00\x01\x02\xff", ClientRequestToken=t)
    eq(put["VersionId"], t, "PutSecretValue retried with the same binary value")
    arn = c.describe_secret(SecretId=name)["ARN"]
    expect_error("ResourceExistsException", _in_use(t, arn), c.put_secret_value, SecretId=name, SecretBinary=b"\x00\x01", ClientRequestToken=t)


if __name__ == "__main__":
    run(globals())
