"""boto3: DeleteSecret with a recovery window, RestoreSecret, forced deletion (spec §2.3, §3.12-3.13, cases 9, 38-41)."""

import datetime
import time

from boto3_common import (NOT_FOUND, absent, check, check_arn, check_timestamp, check_wire_timestamps, eq, eq_members,
                          expect_error, run, unique)


def _days_from_now(value, days, what):
    check_timestamp(value, what, near=False)
    expected = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    check(abs((value - expected).total_seconds()) < 3600, f"{what}: must be about now + {days} days ({expected.isoformat()})", value)


def _wait_gone(c, name, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            c.describe_secret(SecretId=name)
        except c.exceptions.ResourceNotFoundException:
            return True
        time.sleep(0.2)
    return False


def scenario_case38_delete_and_restore(c):
    name = unique("b3-c38")
    arn = c.create_secret(Name=name, SecretString="b3-v1")["ARN"]

    deleted = c.delete_secret(SecretId=name)
    eq_members(deleted, ["ARN", "DeletionDate", "Name"], "DeleteSecret")
    eq((deleted["ARN"], deleted["Name"]), (arn, name), "DeleteSecret ARN, Name")
    _days_from_now(deleted["DeletionDate"], 30, "DeletionDate with the default 30-day window")
    check_wire_timestamps("DeleteSecret", ["DeletionDate"])

    described = c.describe_secret(SecretId=name)
    check_timestamp(described.get("DeletedDate"), "DescribeSecret DeletedDate of a secret scheduled for deletion")

    restored = c.restore_secret(SecretId=name)
    eq_members(restored, ["ARN", "Name"], "RestoreSecret")
    eq((restored["ARN"], restored["Name"]), (arn, name), "RestoreSecret ARN, Name")
    absent(c.describe_secret(SecretId=name), "DeletedDate", "DescribeSecret after RestoreSecret")
    eq(c.get_secret_value(SecretId=name)["SecretString"], "b3-v1", "value readable again after RestoreSecret")

    week = c.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    _days_from_now(week["DeletionDate"], 7, "DeletionDate with RecoveryWindowInDays=7")
    c.restore_secret(SecretId=arn[:-7])
    absent(c.describe_secret(SecretId=name), "DeletedDate", "DescribeSecret after RestoreSecret by partial ARN")


def scenario_case39_force_delete_scheduled_then_recreate(c):
    name = unique("b3-c39")
    arn = c.create_secret(Name=name, SecretString="b3-v1")["ARN"]
    c.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    forced = c.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    eq_members(forced, ["ARN", "DeletionDate", "Name"], "forced DeleteSecret of a scheduled secret")
    eq((forced["ARN"], forced["Name"]), (arn, name), "forced DeleteSecret ARN, Name")
    _days_from_now(forced["DeletionDate"], 0, "forced DeletionDate")
    check(_wait_gone(c, name), "after a forced deletion DescribeSecret must end in ResourceNotFoundException", name)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.get_secret_value, SecretId=name)

    # Case 9: the name is free again, with a new ARN suffix.
    again = c.create_secret(Name=name, SecretString="b3-v2")
    check_arn(again["ARN"], name, "recreated secret")
    check(again["ARN"] != arn, "a recreated secret gets a new ARN suffix", (arn, again["ARN"]))
    eq(c.get_secret_value(SecretId=name)["SecretString"], "b3-v2", "value of the recreated secret")


def scenario_force_delete_live_secret(c):
    name = unique("b3-force")
    arn = c.create_secret(Name=name, SecretString="b3-v1")["ARN"]
    forced = c.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    eq((forced["ARN"], forced["Name"]), (arn, name), "forced DeleteSecret by ARN")
    check(_wait_gone(c, name), "a force-deleted secret disappears", name)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.restore_secret, SecretId=name)


def scenario_case40_force_delete_nonexistent(c):
    name = unique("b3-c40-never")
    forced = c.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    eq_members(forced, ["ARN", "DeletionDate", "Name"], "forced DeleteSecret of a nonexistent secret")
    eq(forced["Name"], name, "Name echoes the given id")
    check(isinstance(forced["ARN"], str) and forced["ARN"].startswith("arn:aws:secretsmanager:us-east-1:"), "an ARN is returned", forced["ARN"])
    check_timestamp(forced["DeletionDate"], "DeletionDate")


def scenario_case41_invalid_deletion_parameters(c):
    name = unique("b3-c41")
    c.create_secret(Name=name, SecretString="b3-v1")
    for days in (0, 6, 31):
        expect_error("InvalidParameterException", None, c.delete_secret, SecretId=name, RecoveryWindowInDays=days)
    expect_error("InvalidParameterException", None, c.delete_secret, SecretId=name, RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True)
    absent(c.describe_secret(SecretId=name), "DeletedDate", "DescribeSecret after refused deletions")
    for days in (7, 30):
        c.delete_secret(SecretId=name, RecoveryWindowInDays=days)
        c.restore_secret(SecretId=name)


if __name__ == "__main__":
    run(globals())
