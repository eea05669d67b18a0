"""boto3: the staging-label cycle (spec §4, cases 21-32), as rotation functions and runbooks drive it."""

from boto3_common import absent, eq, eq_members, eq_versions, run, token, unique


def _secret(c, prefix):
    name = unique(prefix)
    v1 = token()
    c.create_secret(Name=name, SecretString="b3-s1", ClientRequestToken=v1)
    return name, v1


def _put(c, name, value, stages=None):
    t = token()
    kwargs = {"VersionStages": stages} if stages is not None else {}
    response = c.put_secret_value(SecretId=name, SecretString=value, ClientRequestToken=t, **kwargs)
    eq(response["VersionId"], t, "PutSecretValue VersionId = ClientRequestToken")
    return t, response


def _move(c, name, stage, move=None, remove=None):
    kwargs = {}
    if move is not None:
        kwargs["MoveToVersionId"] = move
    if remove is not None:
        kwargs["RemoveFromVersionId"] = remove
    response = c.update_secret_version_stage(SecretId=name, VersionStage=stage, **kwargs)
    eq_members(response, ["ARN", "Name"], f"UpdateSecretVersionStage({stage}, Move={move}, Remove={remove})")
    eq(response["Name"], name, "UpdateSecretVersionStage Name")
    return response


def _current(c, name):
    return c.get_secret_value(SecretId=name)["VersionId"]


def scenario_case21_22_put_moves_current_and_deprecates(c):
    name, v1 = _secret(c, "b3-c21")
    v2, put = _put(c, name, "b3-s2")
    eq(put["VersionStages"], ["AWSCURRENT"], "case 21: PutSecretValue response VersionStages")
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}, "case 21")

    v3, _ = _put(c, name, "b3-s3")
    eq_versions(c, name, {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}, "case 22")
    eq_versions(c, name, {v1: None, v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}, "case 22: v1 deprecated, listed without VersionStages", include_deprecated=True)
    eq(c.describe_secret(SecretId=name)["VersionIdsToStages"], {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}, "case 22: VersionIdsToStages excludes deprecated")
    entry = c.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"][0]
    eq(entry["SecretVersionsToStages"], {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}, "case 22: SecretVersionsToStages excludes deprecated")


def scenario_case23_update_secret_versions(c):
    name, v1 = _secret(c, "b3-c23")
    updated = c.update_secret(SecretId=name, SecretString="b3-s2")
    eq_members(updated, ["ARN", "Name", "VersionId"], "case 23: UpdateSecret(SecretString)")
    v2 = updated["VersionId"]
    eq(v2 != v1, True, "case 23: UpdateSecret returns a new VersionId")
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}, "case 23")
    eq_members(c.update_secret(SecretId=name, Description="b3 description"), ["ARN", "Name"], "case 23: UpdateSecret(Description)")
    eq_members(c.update_secret(SecretId=name), ["ARN", "Name"], "case 23: UpdateSecret(SecretId)")
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"]}, "case 23: no version from metadata-only updates")


def scenario_case24_27_pending_cycle(c):
    name, v1 = _secret(c, "b3-c24")
    # 24: a pending value does not touch AWSCURRENT and creates no AWSPREVIOUS.
    v2, put = _put(c, name, "b3-s2", ["AWSPENDING"])
    eq(put["VersionStages"], ["AWSPENDING"], "case 24: response VersionStages")
    got = c.get_secret_value(SecretId=name)
    eq((got["VersionId"], got["SecretString"]), (v1, "b3-s1"), "case 24: GetSecretValue still returns v1")
    eq_versions(c, name, {v1: ["AWSCURRENT"], v2: ["AWSPENDING"]}, "case 24")
    pending = c.get_secret_value(SecretId=name, VersionStage="AWSPENDING")
    eq((pending["VersionId"], pending["SecretString"], pending["VersionStages"]), (v2, "b3-s2", ["AWSPENDING"]), "case 24: GetSecretValue(AWSPENDING)")

    # 25: moving AWSCURRENT onto the pending version keeps AWSPENDING there.
    _move(c, name, "AWSCURRENT", move=v2, remove=v1)
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "AWSPENDING"]}, "case 25")
    eq(_current(c, name), v2, "case 25: AWSCURRENT is v2")

    # 27 (from 25's state): a new pending value takes AWSPENDING off the current version...
    v3, put = _put(c, name, "b3-s3", ["AWSPENDING"])
    eq(put["VersionStages"], ["AWSPENDING"], "case 27: response VersionStages")
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT"], v3: ["AWSPENDING"]}, "case 27: after PutSecretValue(AWSPENDING)")
    # ...and finishing that rotation moves AWSPREVIOUS along, deprecating v1.
    _move(c, name, "AWSCURRENT", move=v3, remove=v2)
    eq_versions(c, name, {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT", "AWSPENDING"]}, "case 27: after the move")
    eq_versions(c, name, {v1: None, v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT", "AWSPENDING"]}, "case 27: v1 deprecated", include_deprecated=True)


def scenario_case26_put_clears_pending_on_old_current(c):
    name, v1 = _secret(c, "b3-c26")
    v2, _ = _put(c, name, "b3-s2", ["AWSPENDING"])
    _move(c, name, "AWSCURRENT", move=v2, remove=v1)
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "AWSPENDING"]}, "case 26: given")
    v3, put = _put(c, name, "b3-s3")
    eq(put["VersionStages"], ["AWSCURRENT"], "case 26: response VersionStages")
    eq_versions(c, name, {v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}, "case 26: AWSPENDING gone with the old current")
    eq_versions(c, name, {v1: None, v2: ["AWSPREVIOUS"], v3: ["AWSCURRENT"]}, "case 26: v1 deprecated", include_deprecated=True)


def scenario_case28_custom_labels_accepted(c):
    name, v1 = _secret(c, "b3-c28")
    v2, put = _put(c, name, "b3-s2", ["AWSSOMETHING", "AWSPENDING", "PUT1"])
    eq(sorted(put["VersionStages"]), ["AWSPENDING", "AWSSOMETHING", "PUT1"], "case 28: response VersionStages")
    eq_versions(c, name, {v1: ["AWSCURRENT"], v2: ["AWSPENDING", "AWSSOMETHING", "PUT1"]}, "case 28")


def scenario_case29_custom_labels_survive_moves(c):
    name, v1 = _secret(c, "b3-c29")
    v2, _ = _put(c, name, "b3-s2", ["AWSCURRENT", "PUT0"])
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "PUT0"]}, "case 29: after PutSecretValue([AWSCURRENT, PUT0])")
    v3, _ = _put(c, name, "b3-s3", ["AWSPENDING", "PUT1"])
    eq_versions(c, name, {v1: ["AWSPREVIOUS"], v2: ["AWSCURRENT", "PUT0"], v3: ["AWSPENDING", "PUT1"]}, "case 29: given")

    _move(c, name, "AWSCURRENT", move=v3, remove=v2)
    eq_versions(c, name, {v2: ["AWSPREVIOUS", "PUT0"], v3: ["AWSCURRENT", "AWSPENDING", "PUT1"]}, "case 29: after the first move")
    eq_versions(c, name, {v1: None, v2: ["AWSPREVIOUS", "PUT0"], v3: ["AWSCURRENT", "AWSPENDING", "PUT1"]}, "case 29: v1 deprecated",
                include_deprecated=True)

    v4, _ = _put(c, name, "b3-s4", ["AWSPENDING", "PUT2"])
    eq_versions(c, name, {v2: ["AWSPREVIOUS", "PUT0"], v3: ["AWSCURRENT", "PUT1"], v4: ["AWSPENDING", "PUT2"]}, "case 29: after the second pending put")
    _move(c, name, "AWSCURRENT", move=v4, remove=v3)
    eq_versions(c, name, {v2: ["PUT0"], v3: ["AWSPREVIOUS", "PUT1"], v4: ["AWSCURRENT", "AWSPENDING", "PUT2"]}, "case 29: v2 keeps PUT0 only")


def scenario_case30_31_label_sets(c):
    name, v1 = _secret(c, "b3-c30")
    v2, _ = _put(c, name, "b3-s2", ["one", "two", "three"])
    v3, put = _put(c, name, "b3-s3", ["one", "two", "three", "four"])
    eq(sorted(put["VersionStages"]), ["four", "one", "three", "two"], "case 30: response VersionStages")
    eq_versions(c, name, {v1: ["AWSCURRENT"], v3: ["four", "one", "three", "two"]}, "case 30: v2 deprecated")

    name, v1 = _secret(c, "b3-c31")
    v2, _ = _put(c, name, "b3-s2", ["one", "two", "three"])
    v3, _ = _put(c, name, "b3-s3", ["one", "two", "four"])
    eq_versions(c, name, {v1: ["AWSCURRENT"], v2: ["three"], v3: ["four", "one", "two"]}, "case 31")


def scenario_case32_remove_custom_label_without_move(c):
    name, v1 = _secret(c, "b3-c32")
    v2, _ = _put(c, name, "b3-s2", ["PENDING"])
    eq(c.get_secret_value(SecretId=name, VersionId=v1)["VersionStages"], ["AWSCURRENT"], "case 32: v1 labels")
    eq(c.get_secret_value(SecretId=name, VersionId=v2)["VersionStages"], ["PENDING"], "case 32: v2 labels")
    _move(c, name, "AWSCURRENT", move=v2, remove=v1)
    eq(sorted(c.get_secret_value(SecretId=name, VersionId=v2)["VersionStages"]), ["AWSCURRENT", "PENDING"], "case 32: v2 after the move")
    _move(c, name, "PENDING", remove=v2)
    eq(c.get_secret_value(SecretId=name, VersionId=v1)["VersionStages"], ["AWSPREVIOUS"], "case 32: v1 at the end")
    eq(c.get_secret_value(SecretId=name, VersionId=v2)["VersionStages"], ["AWSCURRENT"], "case 32: v2 at the end")


def scenario_rollback_moves_previous_back(c):
    # §4.2 AWSPREVIOUS rule when rolling back: the version receiving AWSCURRENT loses AWSPREVIOUS.
    name, v1 = _secret(c, "b3-rollback")
    v2, _ = _put(c, name, "b3-s2")
    _move(c, name, "AWSCURRENT", move=v1, remove=v2)
    eq_versions(c, name, {v1: ["AWSCURRENT"], v2: ["AWSPREVIOUS"]}, "roll-back")
    got = c.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    eq((got["VersionId"], got["SecretString"]), (v2, "b3-s2"), "GetSecretValue(AWSPREVIOUS) after the roll-back")
    absent(c.list_secret_version_ids(SecretId=name), "NextToken", "ListSecretVersionIds")


if __name__ == "__main__":
    run(globals())
