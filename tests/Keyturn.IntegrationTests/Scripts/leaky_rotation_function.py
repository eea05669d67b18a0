"""A careless rotation function: AWS's template logic, plus, in createSecret after the AWSPENDING value is
written, a line for each value a function should never print (the rotation-log masking test reads them).

With --key-file F it also writes its own secret access key to F, outside Keyturn's data directory, so the
test knows which value to look for; --old-version V names the deprecated version whose value it prints (its
per-invocation key may read the secret's versions but not list them).
"""
import argparse
import base64
import json
import os
import sys

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import template_rotation_function as template  # noqa: E402


def leak(event, key_file, old_version):
    c = boto3.client('secretsmanager', endpoint_url=os.environ['SECRETS_MANAGER_ENDPOINT'])
    arn = event['SecretId']
    current = json.loads(c.get_secret_value(SecretId=arn, VersionStage='AWSCURRENT')['SecretString'])
    pending = c.get_secret_value(SecretId=arn, VersionId=event['ClientRequestToken'], VersionStage='AWSPENDING')['SecretString']
    master = json.loads(c.get_secret_value(SecretId=current['masterarn'])['SecretString'])
    old = json.loads(c.get_secret_value(SecretId=arn, VersionId=old_version)['SecretString'])
    key = os.environ['AWS_SECRET_ACCESS_KEY']
    with open(key_file, 'w') as f:
        f.write(key)
    password = current['password'].encode()
    for line in [
        'leak current=' + current['password'],
        'leak pending=' + pending,
        'leak master=' + master['password'],
        'leak pwd=' + current['pwd'],
        'leak dsn=postgresql://app:%s@db.internal:6543/other' % current['password'],
        'leak old=' + old['password'],
        'leak b64=' + base64.b64encode(password).decode(),
        'leak hex=' + password.hex(),
        'leak key=' + key,
    ]:
        print(line, flush=True)
    print('leak error: ' + current['pwd'], file=sys.stderr, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--old-version", required=True)
    args = parser.parse_args()
    event = json.load(sys.stdin)
    template.lambda_handler(event, None)
    if event['Step'] == 'createSecret':
        leak(event, args.key_file, args.old_version)
