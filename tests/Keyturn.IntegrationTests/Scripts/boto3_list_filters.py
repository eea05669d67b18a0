"""boto3: ListSecrets filters (spec §3.8, case 56): name prefix, description word prefixes, negation, AND/OR, tags, all,
IncludePlannedDeletion."""

import json
import uuid

from boto3_common import eq, run, unique


def _include_planned_deletion(params, **_):
    # IncludePlannedDeletion is newer than Debian's botocore 1.29, which refuses unknown parameters: add it to the body.
    request = json.loads(params["body"] or b"{}")
    request["IncludePlannedDeletion"] = True
    params["body"] = json.dumps(request).encode()


def _listed(c, filters, include_planned_deletion=False):
    if include_planned_deletion:
        c.meta.events.register("before-call.secretsmanager.ListSecrets", _include_planned_deletion, unique_id="b3-include-planned")
    try:
        names = []
        for page in c.get_paginator("list_secrets").paginate(Filters=filters):
            names += [entry["Name"] for entry in page["SecretList"]]
        return set(names)
    finally:
        c.meta.events.unregister("before-call.secretsmanager.ListSecrets", unique_id="b3-include-planned")


def _expect(c, filters, ours, included, what, include_planned_deletion=False):
    """Among our own secrets (the server is shared), exactly `included` match."""
    got = _listed(c, filters, include_planned_deletion) & set(ours)
    eq(sorted(got), sorted(included), f"{what}: ListSecrets(Filters={filters}) among this test's secrets")


def scenario_case56_name_and_description(c):
    suffix = uuid.uuid4().hex[:10]
    s1 = f"testing1/one-{suffix}"
    s2 = f"/testing2/two-{suffix}"
    s3 = f"testing3/three-{suffix}"
    s4 = f"/testing4/four-{suffix}"
    for name, description in ((s1, "a secret"), (s2, "an secret"), (s3, "asecret"), (s4, "thesecret")):
        c.create_secret(Name=name, SecretString="b3-filter", Description=description)
    ours = [s1, s2, s3, s4]

    _expect(c, [{"Key": "name", "Values": ["/"]}], ours, [s2, s4], "name prefix '/'")
    _expect(c, [{"Key": "name", "Values": ["!/"]}], ours, [s1, s3], "negated name prefix '!/'")
    _expect(c, [{"Key": "name", "Values": ["testing1 one"]}], ours, [], "name 'testing1 one' (not word-split)")
    _expect(c, [{"Key": "name", "Values": ["testing1/"]}], ours, [s1], "name prefix 'testing1/'")
    _expect(c, [{"Key": "name", "Values": ["Testing1/"]}], ours, [], "name prefix is case-sensitive")
    _expect(c, [{"Key": "name", "Values": ["testing1/", "testing3/"]}], ours, [s1, s3], "values of one filter OR together")
    _expect(c, [{"Key": "description", "Values": ["a"]}], ours, [s1, s2, s3], "description 'a'")
    _expect(c, [{"Key": "description", "Values": ["!a"]}], ours, [s4], "description '!a'")
    _expect(c, [{"Key": "description", "Values": ["a secret"]}], ours, [s1, s2], "description 'a secret' (word prefixes)")
    _expect(c, [{"Key": "description", "Values": ["A SECRET"]}], ours, [s1, s2], "description is case-insensitive")
    _expect(c, [{"Key": "description", "Values": ["!c"]}], ours, ours, "description '!c'")
    _expect(c, [{"Key": "description", "Values": ["a"]}, {"Key": "name", "Values": ["secret"]}], ours, [], "two filters AND (none)")
    _expect(c, [{"Key": "description", "Values": ["a"]}, {"Key": "name", "Values": ["an"]}], ours, [], "two filters AND (none, 'an')")
    _expect(c, [{"Key": "description", "Values": ["a"]}, {"Key": "name", "Values": ["/"]}], ours, [s2], "two filters AND ('/' and 'a')")


def scenario_tags_and_all(c):
    word = "zq" + uuid.uuid4().hex[:10]
    tagged = unique("b3-filter-tag")
    other = unique("b3-filter-other")
    c.create_secret(Name=tagged, SecretString="b3-filter", Tags=[{"Key": f"{word}-owner", "Value": f"{word}value"}])
    c.create_secret(Name=other, SecretString="b3-filter", Tags=[{"Key": "owner", "Value": "someone"}], Description=f"about {word}")
    ours = [tagged, other]

    _expect(c, [{"Key": "tag-key", "Values": [f"{word}-owner"]}], ours, [tagged], "tag-key")
    _expect(c, [{"Key": "tag-key", "Values": [word]}], ours, [tagged], "tag-key prefix")
    _expect(c, [{"Key": "tag-key", "Values": [f"!{word}"]}], ours, [other], "negated tag-key")
    _expect(c, [{"Key": "tag-value", "Values": [f"{word}value"]}], ours, [tagged], "tag-value")
    _expect(c, [{"Key": "tag-value", "Values": [word]}], ours, [tagged], "tag-value prefix")
    _expect(c, [{"Key": "all", "Values": [word]}], ours, [tagged, other], "all: tag key/value and description")
    _expect(c, [{"Key": "all", "Values": [word.upper()]}], ours, [tagged, other], "all is case-insensitive")


def scenario_include_planned_deletion(c):
    prefix = unique("b3-filter-del")
    live, scheduled = f"{prefix}/live", f"{prefix}/scheduled"
    for name in (live, scheduled):
        c.create_secret(Name=name, SecretString="b3-filter")
    c.delete_secret(SecretId=scheduled, RecoveryWindowInDays=7)
    name_filter = [{"Key": "name", "Values": [prefix + "/"]}]
    _expect(c, name_filter, [live, scheduled], [live], "a secret scheduled for deletion is hidden")
    _expect(c, name_filter, [live, scheduled], [live, scheduled], "IncludePlannedDeletion=True shows it", include_planned_deletion=True)
    c.meta.events.register("before-call.secretsmanager.ListSecrets", _include_planned_deletion, unique_id="b3-include-planned")
    entries = {e["Name"]: e for e in c.list_secrets(Filters=name_filter)["SecretList"]}
    eq(("DeletedDate" in entries[scheduled], "DeletedDate" in entries[live]), (True, False), "DeletedDate on (scheduled, live) entries")


if __name__ == "__main__":
    run(globals())
