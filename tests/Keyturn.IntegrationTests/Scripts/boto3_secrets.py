"""boto3: create / get / put / update / describe / tags, with the exact response members (spec §2.4, §3.1-3.6, cases 1-4, 11, 18, 19, 23, 37, 43)."""

import base64
import re

from botocore.exceptions import ClientError

from boto3_common import (absent, body, check, check_arn, check_day, check_timestamp, check_wire_timestamps, eq,
                          eq_members, expect_error, fail, raw_json, run, token, unique)

BINARY = b"\x00\x01\x02\xff"


def scenario_create_without_value(c):
    name = unique("b3-empty")
    created = c.create_secret(Name=name, Description="")
    eq_members(created, ["ARN", "Name"], "CreateSecret without a value (no VersionId)")
    check_arn(created["ARN"], name, "CreateSecret")
    eq(created["Name"], name, "CreateSecret Name")

    described = c.describe_secret(SecretId=name)
    eq_members(described, ["ARN", "CreatedDate", "LastChangedDate", "Name"], "DescribeSecret of an empty secret created with Description=''")
    eq(described["ARN"], created["ARN"], "DescribeSecret ARN")
    check_timestamp(described["CreatedDate"], "DescribeSecret CreatedDate")
    check_timestamp(described["LastChangedDate"], "DescribeSecret LastChangedDate")

    # Case 4: the first value of an empty secret becomes AWSCURRENT.
    t = token()
    put = c.put_secret_value(SecretId=name, SecretString="b3-first-value", ClientRequestToken=t)
    eq_members(put, ["ARN", "Name", "VersionId", "VersionStages"], "PutSecretValue")
    eq(put["VersionId"], t, "PutSecretValue VersionId = ClientRequestToken")
    eq(put["VersionStages"], ["AWSCURRENT"], "PutSecretValue on an empty secret: VersionStages")
    eq(c.describe_secret(SecretId=name)["VersionIdsToStages"], {t: ["AWSCURRENT"]}, "DescribeSecret VersionIdsToStages")

    described = c.describe_secret(SecretId=c.create_secret(Name=unique("b3-empty-desc"), Description="b3 description")["ARN"])
    eq(described.get("Description"), "b3 description", "DescribeSecret Description")
    absent(described, "VersionIdsToStages", "DescribeSecret of a secret without versions")


def scenario_create_with_value_and_get(c):
    name = unique("b3-value") + "/app_db+x=y.z@w"
    t = token()
    created = c.create_secret(Name=name, SecretString="b3-dummy-value", Description="b3 app secret", ClientRequestToken=t,
                              Tags=[{"Key": "team", "Value": "b3"}, {"Key": "Env", "Value": ""}])
    eq_members(created, ["ARN", "Name", "VersionId"], "CreateSecret with a value")
    check_arn(created["ARN"], name, "CreateSecret")
    eq(created["VersionId"], t, "CreateSecret VersionId = ClientRequestToken")

    got = c.get_secret_value(SecretId=name)
    eq_members(got, ["ARN", "CreatedDate", "Name", "SecretString", "VersionId", "VersionStages"], "GetSecretValue of a string secret")
    eq((got["ARN"], got["Name"], got["VersionId"], got["SecretString"], got["VersionStages"]),
       (created["ARN"], name, t, "b3-dummy-value", ["AWSCURRENT"]), "GetSecretValue (ARN, Name, VersionId, SecretString, VersionStages)")
    check_timestamp(got["CreatedDate"], "GetSecretValue CreatedDate")
    check_wire_timestamps("GetSecretValue", ["CreatedDate"])

    # SecretId forms: full ARN and partial ARN (case 11).
    arn = created["ARN"]
    for secret_id in (arn, arn[:-7]):
        again = c.get_secret_value(SecretId=secret_id)
        eq((again["ARN"], again["Name"], again["VersionId"], again["SecretString"]), (arn, name, t, "b3-dummy-value"),
           f"GetSecretValue(SecretId={secret_id!r})")
    eq(c.describe_secret(SecretId=arn[:-7])["ARN"], arn, "DescribeSecret by partial ARN")

    described = c.describe_secret(SecretId=arn)
    eq_members(described, ["ARN", "CreatedDate", "Description", "LastAccessedDate", "LastChangedDate", "Name", "Tags", "VersionIdsToStages"],
               "DescribeSecret after a read")
    eq(described["Description"], "b3 app secret", "DescribeSecret Description")
    eq(sorted(described["Tags"], key=lambda tag: tag["Key"]), [{"Key": "Env", "Value": ""}, {"Key": "team", "Value": "b3"}], "DescribeSecret Tags")
    eq(described["VersionIdsToStages"], {t: ["AWSCURRENT"]}, "DescribeSecret VersionIdsToStages")
    check_wire_timestamps("DescribeSecret", ["CreatedDate", "LastChangedDate", "LastAccessedDate"])
    eq(raw_json("DescribeSecret")["LastAccessedDate"] % 86400, 0, "wire LastAccessedDate is a whole UTC day (epoch seconds % 86400)")
    check(described["CreatedDate"] <= described["LastChangedDate"], "CreatedDate <= LastChangedDate",
          (described["CreatedDate"], described["LastChangedDate"]))


def scenario_binary_round_trip(c):
    name = unique("b3-binary")
    t = token()
    c.create_secret(Name=name, SecretBinary=BINARY, ClientRequestToken=t)
    got = c.get_secret_value(SecretId=name)
    eq_members(got, ["ARN", "CreatedDate", "Name", "SecretBinary", "VersionId", "VersionStages"], "GetSecretValue of a binary secret")
    check(isinstance(got["SecretBinary"], bytes), "SecretBinary must reach boto3 as bytes", type(got["SecretBinary"]))
    eq(got["SecretBinary"], BINARY, "SecretBinary round trip")
    eq(raw_json("GetSecretValue").get("SecretBinary"), base64.b64encode(BINARY).decode(), "SecretBinary is base64 on the wire")

    c.put_secret_value(SecretId=name, SecretString="b3-now-a-string")
    got = c.get_secret_value(SecretId=name)
    eq(got.get("SecretString"), "b3-now-a-string", "SecretString after PutSecretValue(SecretString)")
    absent(got, "SecretBinary", "GetSecretValue after switching to a string")

    put = c.put_secret_value(SecretId=name, SecretBinary=b"\xff\xfe" + BINARY)
    eq(c.get_secret_value(SecretId=name, VersionId=put["VersionId"])["SecretBinary"], b"\xff\xfe" + BINARY, "SecretBinary by VersionId")

    updated = c.update_secret(SecretId=name, SecretBinary=BINARY * 3)
    eq(c.get_secret_value(SecretId=name)["SecretBinary"], BINARY * 3, "SecretBinary after UpdateSecret")
    eq(c.get_secret_value(SecretId=name)["VersionId"], updated["VersionId"], "UpdateSecret(SecretBinary) made the new version AWSCURRENT")

    expect_error("InvalidParameterException", None, c.create_secret, Name=unique("b3-both"), SecretString="b3-x", SecretBinary=BINARY)
    expect_error("InvalidParameterException", None, c.put_secret_value, SecretId=name, SecretString="b3-x", SecretBinary=BINARY)


def scenario_last_accessed_date(c):
    name = unique("b3-accessed")
    v1 = token()
    c.create_secret(Name=name, SecretString="b3-v1", ClientRequestToken=v1)
    absent(c.describe_secret(SecretId=name), "LastAccessedDate", "DescribeSecret before any GetSecretValue")
    for version in c.list_secret_version_ids(SecretId=name)["Versions"]:
        absent(version, "LastAccessedDate", "ListSecretVersionIds entry before any GetSecretValue")

    c.get_secret_value(SecretId=name)
    first = c.describe_secret(SecretId=name).get("LastAccessedDate")
    check_day(first, "DescribeSecret LastAccessedDate after GetSecretValue")
    c.get_secret_value(SecretId=name)
    eq(c.describe_secret(SecretId=name).get("LastAccessedDate"), first, "LastAccessedDate is stable across reads the same day")

    # Case 37: a second version that nobody read has no LastAccessedDate; every version has KmsKeyIds.
    v2 = token()
    c.put_secret_value(SecretId=name, SecretString="b3-v2", ClientRequestToken=v2)
    listed = c.list_secret_version_ids(SecretId=name)
    absent(listed, "NextToken", "ListSecretVersionIds (complete)")
    entries = {v["VersionId"]: v for v in listed["Versions"]}
    eq(sorted(entries), sorted([v1, v2]), "ListSecretVersionIds versions")
    check_day(entries[v1].get("LastAccessedDate"), "v1 LastAccessedDate")
    absent(entries[v2], "LastAccessedDate", "ListSecretVersionIds entry of an unread version")
    for wire in raw_json("ListSecretVersionIds")["Versions"]:
        check(isinstance(wire["CreatedDate"], (int, float)), "wire version CreatedDate is a JSON number", wire["CreatedDate"])
        if "LastAccessedDate" in wire:
            eq(wire["LastAccessedDate"] % 86400, 0, "wire version LastAccessedDate is a whole UTC day")
    for version_id, entry in entries.items():
        eq(entry.get("KmsKeyIds"), ["DefaultEncryptionKey"], f"KmsKeyIds of {version_id}")
        check_timestamp(entry.get("CreatedDate"), f"CreatedDate of {version_id}")
    eq(sorted(entries[v1]), ["CreatedDate", "KmsKeyIds", "LastAccessedDate", "VersionId", "VersionStages"], "members of a read version entry")
    eq(sorted(entries[v2]), ["CreatedDate", "KmsKeyIds", "VersionId", "VersionStages"], "members of an unread version entry")


def scenario_update_secret_shapes(c):
    name = unique("b3-update")
    created = c.create_secret(Name=name, SecretString="b3-v1", Description="first")
    before = c.describe_secret(SecretId=name)

    description_only = c.update_secret(SecretId=name, Description="second")
    eq_members(description_only, ["ARN", "Name"], "UpdateSecret(Description) creates no version")
    eq(c.describe_secret(SecretId=name)["Description"], "second", "Description after UpdateSecret")
    eq(c.get_secret_value(SecretId=name)["VersionId"], created["VersionId"], "AWSCURRENT unchanged by a description update")

    nothing = c.update_secret(SecretId=name)
    eq_members(nothing, ["ARN", "Name"], "UpdateSecret(SecretId) alone")

    t = token()
    with_value = c.update_secret(SecretId=name, SecretString="b3-v2", Description="third", ClientRequestToken=t)
    eq_members(with_value, ["ARN", "Name", "VersionId"], "UpdateSecret with a value")
    eq(with_value["VersionId"], t, "UpdateSecret VersionId = ClientRequestToken")
    got = c.get_secret_value(SecretId=name)
    eq((got["VersionId"], got["SecretString"]), (t, "b3-v2"), "GetSecretValue after UpdateSecret")
    after = c.describe_secret(SecretId=name)
    eq(after["Description"], "third", "Description after UpdateSecret with a value")
    check(after["LastChangedDate"] > before["LastChangedDate"], "LastChangedDate increases on a value update",
          (before["LastChangedDate"], after["LastChangedDate"]))
    eq(after["CreatedDate"], before["CreatedDate"], "CreatedDate never changes")

    # An empty secret gets its first version from UpdateSecret.
    empty = unique("b3-update-empty")
    c.create_secret(Name=empty)
    first = c.update_secret(SecretId=empty, SecretString="b3-first")
    eq(c.describe_secret(SecretId=empty)["VersionIdsToStages"], {first["VersionId"]: ["AWSCURRENT"]}, "UpdateSecret on an empty secret")


def scenario_put_secret_value_without_value(c):
    name = unique("b3-novalue")
    c.create_secret(Name=name, SecretString="b3-v1")
    expect_error("InvalidRequestException", None, c.put_secret_value, SecretId=name)


def scenario_tags(c):
    name = unique("b3-tags")
    c.create_secret(Name=name, SecretString="b3-v1")
    absent(c.describe_secret(SecretId=name), "Tags", "DescribeSecret of a never-tagged secret")

    tagged = c.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    eq(body(tagged), {}, "TagResource response body")
    c.tag_resource(SecretId=name, Tags=[{"Key": "a", "Value": "3"}, {"Key": "b", "Value": "4"}])
    tags = sorted(c.describe_secret(SecretId=name)["Tags"], key=lambda tag: tag["Key"])
    eq(tags, [{"Key": "A", "Value": "2"}, {"Key": "a", "Value": "3"}, {"Key": "b", "Value": "4"}],
       "Tags after tagging (overwrite by key, keys case-sensitive)")

    listed = c.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    eq([entry["Name"] for entry in listed], [name], "ListSecrets by name")
    eq(sorted(listed[0].get("Tags", []), key=lambda tag: tag["Key"]), tags, "ListSecrets entry Tags")

    untagged = c.untag_resource(SecretId=name, TagKeys=["a"])
    eq(body(untagged), {}, "UntagResource response body")
    eq(sorted(c.describe_secret(SecretId=name)["Tags"], key=lambda tag: tag["Key"]), [{"Key": "A", "Value": "2"}, {"Key": "b", "Value": "4"}],
       "Tags after removing 'a'")
    c.untag_resource(SecretId=name, TagKeys=["A", "b", "never-there"])
    eq(c.describe_secret(SecretId=name).get("Tags", "(absent)"), [], "Tags after all were removed (case 43)")


def scenario_list_secrets_entry_shape(c):
    name = unique("b3-entry")
    created = c.create_secret(Name=name, SecretString="b3-v1", Description="entry")
    c.get_secret_value(SecretId=name)
    entries = c.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]
    eq(len(entries), 1, "ListSecrets entries for a unique name")
    entry = entries[0]
    eq(sorted(entry), ["ARN", "CreatedDate", "Description", "LastAccessedDate", "LastChangedDate", "Name", "SecretVersionsToStages"],
       "ListSecrets entry members (SecretVersionsToStages, not VersionIdsToStages)")
    eq(entry["SecretVersionsToStages"], {created["VersionId"]: ["AWSCURRENT"]}, "SecretVersionsToStages")
    check_timestamp(entry["CreatedDate"], "ListSecrets CreatedDate")
    check_day(entry["LastAccessedDate"], "ListSecrets LastAccessedDate")


def scenario_names_ids_and_limits(c):
    prefix = unique("b3-names")
    # Names from AWS's own validated tests, including ones that end like an ARN suffix (spec §2.1).
    for name in (f"{prefix}/Valid/_+=.@-Name", f"{prefix}/Valid/_+=.@-Name-a1b2", f"{prefix}/Valid/_+=.@-Name-a1b2c3-", f"{prefix}/x-AbCdEf"):
        created = c.create_secret(Name=name, SecretString="b3-name")
        check_arn(created["ARN"], name, f"CreateSecret({name!r})")
        check(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", created["ResponseMetadata"]["RequestId"]) is not None,
              "ResponseMetadata.RequestId (x-amzn-RequestId) is a UUID", created["ResponseMetadata"]["RequestId"])
        for secret_id in (name, created["ARN"], created["ARN"][:-7]):
            eq(c.get_secret_value(SecretId=secret_id)["Name"], name, f"GetSecretValue(SecretId={secret_id!r}) resolves to {name!r}")

    # ListSecrets SortOrder over CreatedDate (the default sort key).
    name_filter = [{"Key": "name", "Values": [prefix + "/"]}]
    ascending = c.list_secrets(Filters=name_filter, SortOrder="asc")["SecretList"]
    descending = c.list_secrets(Filters=name_filter, SortOrder="desc")["SecretList"]
    eq(len(ascending), 4, "ListSecrets entries of this scenario")
    check(all(a["CreatedDate"] <= b["CreatedDate"] for a, b in zip(ascending, ascending[1:])), "SortOrder=asc sorts by CreatedDate",
          [e["Name"] for e in ascending])
    eq([e["Name"] for e in descending], [e["Name"] for e in reversed(ascending)], "SortOrder=desc is the reverse of asc")

    # Values up to 65,536 bytes are stored; larger ones are refused with a 400.
    big = f"{prefix}/big"
    c.create_secret(Name=big, SecretString="x" * 65536)
    eq(len(c.get_secret_value(SecretId=big)["SecretString"]), 65536, "a 65,536-character SecretString round-trips")
    for kwargs in ({"SecretString": "x" * 65537}, {"SecretBinary": b"x" * 65537}):
        try:
            c.put_secret_value(SecretId=big, **kwargs)
            fail(f"PutSecretValue of 65,537 bytes ({sorted(kwargs)[0]}) must be refused", "a 400 error", "accepted")
        except ClientError as error:
            eq(error.response["ResponseMetadata"]["HTTPStatusCode"], 400, "HTTP status of an oversized value")


if __name__ == "__main__":
    run(globals())
