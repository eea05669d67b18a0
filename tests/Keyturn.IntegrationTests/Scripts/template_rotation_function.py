"""AWS's SecretsManagerRotationTemplate logic, unchanged in substance, run by Keyturn as a command function.

boto3 finds the endpoint (SECRETS_MANAGER_ENDPOINT, as AWS's templates read it) and its credentials in
the environment Keyturn sets. For crash tests: with --pause-at STEP --pause-file F, the function writes
F.reached on entering STEP and waits while F exists, so a test can kill the server mid-step.
"""
import argparse
import json
import logging
import os
import sys
import time

import boto3

logger = logging.getLogger()
logging.basicConfig(level=logging.INFO, format="[%(levelname)s]\t%(message)s", stream=sys.stdout)


def lambda_handler(event, context, pause_at=None, pause_file=None):
    arn = event['SecretId']
    token = event['ClientRequestToken']
    step = event['Step']
    service_client = boto3.client('secretsmanager', endpoint_url=os.environ['SECRETS_MANAGER_ENDPOINT'])

    metadata = service_client.describe_secret(SecretId=arn)
    if not metadata['RotationEnabled']:
        raise ValueError("Secret %s is not enabled for rotation" % arn)
    versions = metadata['VersionIdsToStages']
    if token not in versions:
        raise ValueError("Secret version %s has no stage for rotation of secret %s." % (token, arn))
    if "AWSCURRENT" in versions[token]:
        logger.info("Secret version %s already set as AWSCURRENT for secret %s." % (token, arn))
        return
    elif "AWSPENDING" not in versions[token]:
        raise ValueError("Secret version %s not set as AWSPENDING for rotation of secret %s." % (token, arn))

    if pause_at == step and pause_file:
        open(pause_file + ".reached", "w").close()
        while os.path.exists(pause_file):
            time.sleep(0.1)

    if step == "createSecret":
        service_client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        try:
            service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            logger.info("createSecret: Successfully retrieved secret for %s." % arn)
        except service_client.exceptions.ResourceNotFoundException:
            passwd = service_client.get_random_password(ExcludeCharacters=os.environ.get('EXCLUDE_CHARACTERS', '/@"\'\\'))
            service_client.put_secret_value(SecretId=arn, ClientRequestToken=token, SecretString=passwd['RandomPassword'], VersionStages=['AWSPENDING'])
            logger.info("createSecret: Successfully put secret for ARN %s and version %s." % (arn, token))
    elif step == "setSecret":
        logger.info("setSecret: nothing to set for %s." % arn)
    elif step == "testSecret":
        value = service_client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
        if not value.get('SecretString'):
            raise ValueError("testSecret: pending value is empty")
        logger.info("testSecret: pending value of %s is readable." % arn)
    elif step == "finishSecret":
        metadata = service_client.describe_secret(SecretId=arn)
        current_version = None
        for version in metadata["VersionIdsToStages"]:
            if "AWSCURRENT" in metadata["VersionIdsToStages"][version]:
                if version == token:
                    logger.info("finishSecret: Version %s already marked as AWSCURRENT for %s" % (version, arn))
                    return
                current_version = version
                break
        service_client.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT", MoveToVersionId=token, RemoveFromVersionId=current_version)
        logger.info("finishSecret: Successfully set AWSCURRENT stage to version %s for secret %s." % (token, arn))
    else:
        raise ValueError("Invalid step parameter")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-at")
    parser.add_argument("--pause-file")
    parser.add_argument("--fail-at")
    args = parser.parse_args()
    event = json.load(sys.stdin)
    if args.fail_at == event["Step"]:
        logger.error("%s: failing on purpose" % args.fail_at)
        sys.exit(1)
    lambda_handler(event, None, args.pause_at, args.pause_file)
