"""boto3: resource policies, Put / Get / Delete / Validate (spec §3.15)."""

import json

from botocore.exceptions import ClientError

from boto3_common import NOT_FOUND, absent, check, eq, eq_members, expect_error, run, unique

POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "secretsmanager:GetSecretValue",
        "Resource": "*",
    }],
}, indent=2)


def scenario_put_get_delete(c):
    name = unique("b3-policy")
    arn = c.create_secret(Name=name, SecretString="b3-v1")["ARN"]

    empty = c.get_resource_policy(SecretId=name)
    eq_members(empty, ["ARN", "Name"], "GetResourcePolicy without a policy")
    eq((empty["ARN"], empty["Name"]), (arn, name), "GetResourcePolicy ARN, Name")

    put = c.put_resource_policy(SecretId=name, ResourcePolicy=POLICY)
    eq_members(put, ["ARN", "Name"], "PutResourcePolicy")
    eq((put["ARN"], put["Name"]), (arn, name), "PutResourcePolicy ARN, Name")

    got = c.get_resource_policy(SecretId=arn)
    eq_members(got, ["ARN", "Name", "ResourcePolicy"], "GetResourcePolicy")
    eq(got["ResourcePolicy"], POLICY, "GetResourcePolicy returns the policy string as stored")
    eq(c.get_secret_value(SecretId=name)["SecretString"], "b3-v1", "the owner still reads the secret with a policy attached")

    deleted = c.delete_resource_policy(SecretId=name)
    eq_members(deleted, ["ARN", "Name"], "DeleteResourcePolicy")
    eq((deleted["ARN"], deleted["Name"]), (arn, name), "DeleteResourcePolicy ARN, Name")
    absent(c.get_resource_policy(SecretId=name), "ResourcePolicy", "GetResourcePolicy after DeleteResourcePolicy")


def scenario_validate(c):
    name = unique("b3-policy-validate")
    c.create_secret(Name=name, SecretString="b3-v1")
    for kwargs in ({"SecretId": name}, {}):
        validated = c.validate_resource_policy(ResourcePolicy=POLICY, **kwargs)
        eq_members(validated, ["PolicyValidationPassed", "ValidationErrors"], f"ValidateResourcePolicy({sorted(kwargs)})")
        eq((validated["PolicyValidationPassed"], validated["ValidationErrors"]), (True, []), "a valid policy passes with no errors")
    absent(c.get_resource_policy(SecretId=name), "ResourcePolicy", "ValidateResourcePolicy attaches nothing")


def scenario_malformed_policy(c):
    name = unique("b3-policy-bad")
    c.create_secret(Name=name, SecretString="b3-v1")
    expect_error("MalformedPolicyDocumentException", None, c.put_resource_policy, SecretId=name, ResourcePolicy="{not json")
    expect_error("MalformedPolicyDocumentException", None, c.validate_resource_policy, SecretId=name, ResourcePolicy="{not json")
    expect_error("MalformedPolicyDocumentException", None, c.put_resource_policy, SecretId=name, ResourcePolicy="[]")
    # JSON that is not a policy object: the spec leaves open whether validation reports it or refuses it; either way it fails.
    try:
        validated = c.validate_resource_policy(SecretId=name, ResourcePolicy="[]")
        eq(validated["PolicyValidationPassed"], False, "ValidateResourcePolicy('[]') PolicyValidationPassed")
        check(len(validated["ValidationErrors"]) > 0, "ValidateResourcePolicy('[]') lists a validation error", validated["ValidationErrors"])
    except ClientError as error:
        eq(error.response["Error"]["Code"], "MalformedPolicyDocumentException", "ValidateResourcePolicy('[]') error code")
    absent(c.get_resource_policy(SecretId=name), "ResourcePolicy", "a refused policy is not stored")


def scenario_unknown_secret(c):
    missing = unique("b3-policy-missing")
    expect_error("ResourceNotFoundException", NOT_FOUND, c.get_resource_policy, SecretId=missing)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.put_resource_policy, SecretId=missing, ResourcePolicy=POLICY)
    expect_error("ResourceNotFoundException", NOT_FOUND, c.delete_resource_policy, SecretId=missing)


if __name__ == "__main__":
    run(globals())
