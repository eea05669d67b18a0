"""boto3: error responses as botocore.exceptions.ClientError with AWS's exact Error.Code, Error.Message and HTTP 400
(spec §6 cases 3, 5, 7, 8, 10, 14-17, 20, 33, 35, 42; §2.3; §4.2)."""

import uuid

from boto3_common import MARKED_FOR_DELETION, NOT_FOUND, eq, eq_versions, expect_error, run, token, unique

INVALID_NAME = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!"
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}'


def _scheduled(c, prefix):
    name = unique(prefix)
    c.create_secret(Name=name, SecretString="b3-v1")
    c.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    return name


def scenario_case03_empty_secret_has_no_current(c):
    name = unique("b3-c03")
    c.create_secret(Name=name)
    expect_error("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
                 c.get_secret_value, SecretId=name)


def scenario_case05_create_existing_name(c):
    name = unique("b3-c05")
    c.create_secret(Name=name, SecretString="b3-v1")
    expect_error("ResourceExistsException", f"The operation failed because the secret {name} already exists.",
                 c.create_secret, Name=name, SecretString="b3-v2", ClientRequestToken=token())
    expect_error("ResourceExistsException", f"The operation failed because the secret {name} already exists.",
                 c.create_secret, Name=name)


def scenario_case07_create_same_token_other_value(c):
    name = unique("b3-c07")
    t = token()
    arn = c.create_secret(Name=name, SecretString="Hello", ClientRequestToken=t)["ARN"]
    expect_error("ResourceExistsException",
                 f"You can't use ClientRequestToken {t} because that value is already in use for a version of secret {arn}.",
                 c.create_secret, Name=name, SecretString="Hi", ClientRequestToken=t)


def scenario_case08_create_name_scheduled_for_deletion(c):
    name = _scheduled(c, "b3-c08")
    expect_error("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.",
                 c.create_secret, Name=name, SecretString="b3-v2")


def scenario_case10_invalid_names(c):
    for bad in ("Inv Name", " Inv*Name? "):
        expect_error("ValidationException", INVALID_NAME, c.create_secret, Name=bad, SecretString="b3-v1")
        expect_error("ValidationException", INVALID_NAME, c.delete_secret, SecretId=bad, ForceDeleteWithoutRecovery=True)
        expect_error("ValidationException", INVALID_NAME, c.describe_secret, SecretId=bad)
        expect_error("ValidationException", INVALID_NAME, c.get_secret_value, SecretId=bad)
        expect_error("ValidationException", INVALID_NAME, c.list_secret_version_ids, SecretId=bad, IncludeDeprecated=True)
        expect_error("ValidationException", INVALID_NAME, c.put_secret_value, SecretId=bad, SecretString="b3-v1")
        expect_error("ValidationException", INVALID_NAME, c.tag_resource, SecretId=bad, Tags=[{"Key": "k", "Value": "v"}])
        expect_error("ValidationException", INVALID_NAME, c.untag_resource, SecretId=bad, TagKeys=["k"])
        expect_error("ValidationException", INVALID_NAME, c.update_secret, SecretId=bad, Description="b3")
        expect_error("ValidationException", INVALID_NAME, c.validate_resource_policy, SecretId=bad, ResourcePolicy=POLICY)


def scenario_case14_unknown_secret(c):
    missing = unique("b3-c14-missing")
    expect_error("ResourceNotFoundException", NOT_FOUND, c.get_secret_value, SecretId=missing)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.list_secret_version_ids, SecretId=missing)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.describe_secret, SecretId=missing)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.put_secret_value, SecretId=missing, SecretString="b3-v1")
    expect_error("ResourceNotFoundException", NOT_FOUND, c.update_secret, SecretId=missing, Description="b3")
    expect_error("ResourceNotFoundException", NOT_FOUND, c.restore_secret, SecretId=missing)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.get_secret_value,
                 SecretId=f"arn:aws:secretsmanager:us-east-1:000000000000:secret:{missing}-AbCdEf")


def scenario_case15_no_previous_on_one_version_secret(c):
    name = unique("b3-c15")
    c.create_secret(Name=name, SecretString="b3-v1")
    expect_error("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
                 c.get_secret_value, SecretId=name, VersionStage="AWSPREVIOUS")
    expect_error("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
                 c.get_secret_value, SecretId=name, VersionStage="AWSPENDING")


def scenario_case16_unknown_version_id(c):
    name = unique("b3-c16")
    c.create_secret(Name=name, SecretString="b3-v1")
    missing = str(uuid.uuid4())
    expect_error("ResourceNotFoundException", f"Secrets Manager can't find the specified secret value for VersionId: {missing}",
                 c.get_secret_value, SecretId=name, VersionId=missing)


def scenario_case17_version_id_and_stage_disagree(c):
    name = unique("b3-c17")
    v1 = token()
    c.create_secret(Name=name, SecretString="b3-v1", ClientRequestToken=v1)
    expect_error("InvalidRequestException", "You provided a VersionStage that is not associated to the provided VersionId.",
                 c.get_secret_value, SecretId=name, VersionId=v1, VersionStage="AWSPREVIOUS")
    got = c.get_secret_value(SecretId=name, VersionId=v1, VersionStage="AWSCURRENT")
    eq(got["VersionId"], v1, "GetSecretValue(VersionId, VersionStage) when they agree")


def scenario_case20_read_of_secret_marked_for_deletion(c):
    name = _scheduled(c, "b3-c20")
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.get_secret_value, SecretId=name)
    eq("DeletedDate" in c.describe_secret(SecretId=name), True, "DescribeSecret still works and shows DeletedDate")


def scenario_case33_move_current_without_remove(c):
    name = unique("b3-c33")
    v1 = token()
    c.create_secret(Name=name, SecretString="b3-v1", ClientRequestToken=v1)
    v2 = token()
    c.put_secret_value(SecretId=name, SecretString="b3-v2", ClientRequestToken=v2, VersionStages=["AWSPENDING"])
    expect_error("InvalidParameterException",
                 "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version "
                 f"{v1}, so you must explicitly reference that version in RemoveFromVersionId.",
                 c.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v2)
    eq(c.get_secret_value(SecretId=name)["VersionId"], v1, "case 33: AWSCURRENT did not move")


def scenario_update_secret_version_stage_refusals(c):
    # §4.2: wrong versions are InvalidParameterException (messages unverified against AWS, so only the code is checked).
    name = unique("b3-stage-refused")
    v1 = token()
    c.create_secret(Name=name, SecretString="b3-v1", ClientRequestToken=v1)
    v2 = token()
    c.put_secret_value(SecretId=name, SecretString="b3-v2", ClientRequestToken=v2, VersionStages=["AWSPENDING"])
    expect_error("InvalidParameterException", None, c.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
                 MoveToVersionId=str(uuid.uuid4()), RemoveFromVersionId=v1)
    expect_error("InvalidParameterException", None, c.update_secret_version_stage, SecretId=name, VersionStage="AWSCURRENT",
                 MoveToVersionId=v2, RemoveFromVersionId=v2)
    expect_error("InvalidParameterException", None, c.update_secret_version_stage, SecretId=name, VersionStage="AWSPENDING",
                 RemoveFromVersionId=v1)
    eq_versions(c, name, {v1: ["AWSCURRENT"], v2: ["AWSPENDING"]}, "labels after refused UpdateSecretVersionStage calls")
    expect_error("ResourceNotFoundException", NOT_FOUND, c.update_secret_version_stage, SecretId=unique("b3-stage-missing"),
                 VersionStage="AWSCURRENT", MoveToVersionId=v2, RemoveFromVersionId=v1)


def scenario_case35_twenty_labels_per_secret(c):
    name = unique("b3-c35")
    v1 = token()
    c.create_secret(Name=name, SecretString="b3-v1", ClientRequestToken=v1)
    c.put_secret_value(SecretId=name, SecretString="b3-v2", VersionStages=[f"L{i:02d}" for i in range(19)])
    expect_error("LimitExceededException", None, c.put_secret_value, SecretId=name, SecretString="b3-v3", VersionStages=["NEW"])
    expect_error("LimitExceededException", None, c.update_secret_version_stage, SecretId=name, VersionStage="NEW", MoveToVersionId=v1)
    eq(len(c.list_secret_version_ids(SecretId=name, IncludeDeprecated=True)["Versions"]), 2, "no version from the refused PutSecretValue")


def scenario_case42_tags_on_secret_marked_for_deletion(c):
    name = _scheduled(c, "b3-c42")
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.tag_resource, SecretId=name, Tags=[{"Key": "k", "Value": "v"}])
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.untag_resource, SecretId=name, TagKeys=["k"])


def scenario_writes_on_secret_marked_for_deletion(c):
    # §2.3: value- and metadata-changing operations are refused while the secret is scheduled for deletion.
    name = _scheduled(c, "b3-deleted-writes")
    v1 = c.list_secret_version_ids(SecretId=name)["Versions"][0]["VersionId"]
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.put_secret_value, SecretId=name, SecretString="b3-v2")
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.update_secret, SecretId=name, SecretString="b3-v2")
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.update_secret_version_stage, SecretId=name, VersionStage="CUSTOM",
                 MoveToVersionId=v1)
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.get_resource_policy, SecretId=name)
    expect_error("InvalidRequestException", MARKED_FOR_DELETION, c.put_resource_policy, SecretId=name, ResourcePolicy=POLICY)


if __name__ == "__main__":
    run(globals())
