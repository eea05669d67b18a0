"""Creates an IAM user for the doctor that may read Secrets Manager and the function's configuration, nothing else,
then switches the emulator's (moto's) IAM enforcement on. Prints the user's access key as JSON.

usage: python3 doctor_aws_user.py NAME   (endpoint and bootstrap credentials from the environment)
"""

import json
import os
import sys
import urllib.request

import boto3


def main(name):
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="doctor-partial", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["secretsmanager:*", "lambda:GetFunctionConfiguration", "sts:GetCallerIdentity"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    # From now on every request is authenticated and authorized against IAM (moto's switch: no unauthenticated requests left).
    # (a form content type would leave the body to the form parser, and moto reads the raw body)
    urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/reset-auth", data=b"0", method="POST",
                                                  headers={"Content-Type": "text/plain"}))
    print(json.dumps({"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}))


if __name__ == "__main__":
    main(sys.argv[1])
