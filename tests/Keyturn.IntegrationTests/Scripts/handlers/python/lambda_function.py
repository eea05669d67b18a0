# A rotation handler for a plain secret, shaped like AWS's template (createSecret puts AWSPENDING, finishSecret moves
# AWSCURRENT), that records what the tests check: each import of the module, each invocation's context, its
# environment. RECORD_DIR names where; FAIL_AT_STEP raises in that step, SLEEP_AT_STEP sleeps SLEEP_SECONDS in it (steps
# by number, 1 for createSecret to 4 for finishSecret: a step's name as a value would be masked in the log, as every
# environment value is).
import json
import logging
import os
import time

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

RECORD_DIR = os.environ["RECORD_DIR"]
with open(os.path.join(RECORD_DIR, "imports"), "a") as imports:
    imports.write("%d\n" % os.getpid())


STEPS = ["createSecret", "setSecret", "testSecret", "finishSecret"]


def lambda_handler(event, context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    with open(os.path.join(RECORD_DIR, "contexts"), "a") as contexts:
        contexts.write(json.dumps({
            "step": step,
            "pid": os.getpid(),
            "aws_request_id": context.aws_request_id,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "handler_token": os.environ.get("HANDLER_TOKEN"),
            "has_key": bool(os.environ.get("AWS_ACCESS_KEY_ID")),
        }) + "\n")

    number = str(STEPS.index(step) + 1) if step in STEPS else ""
    if os.environ.get("SLEEP_AT_STEP") == number:
        logger.info("%s: sleeping" % step)
        time.sleep(float(os.environ["SLEEP_SECONDS"]))
    if os.environ.get("FAIL_AT_STEP") == number:
        raise ValueError("refusing %s on purpose" % step)

    client = boto3.client("secretsmanager", endpoint_url=os.environ["SECRETS_MANAGER_ENDPOINT"])
    metadata = client.describe_secret(SecretId=arn)
    if step == "createSecret":
        client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            logger.info("createSecret: Successfully retrieved secret for %s." % arn)
        except client.exceptions.ResourceNotFoundException:
            password = client.get_random_password(ExcludeCharacters="/@\"'\\")["RandomPassword"]
            client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=password, VersionStages=["AWSPENDING"])
            logger.info("createSecret: Successfully put secret for ARN %s and version %s." % (arn, token))
    elif step in ("setSecret", "testSecret"):
        logger.info("%s: nothing to do for a plain secret %s." % (step, arn))
    elif step == "finishSecret":
        current = None
        for version, stages in metadata["VersionIdsToStages"].items():
            if "AWSCURRENT" in stages:
                if version == token:
                    logger.info("finishSecret: Version %s already marked as AWSCURRENT for %s" % (version, arn))
                    return
                current = version
                break
        client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current)
        logger.info("finishSecret: Successfully set AWSCURRENT stage to version %s for secret %s." % (token, arn))
    else:
        raise ValueError("Invalid step parameter")
