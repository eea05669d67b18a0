"""boto3 over HTTPS against a Keyturn with its own certificate (TlsTests); not one of the boto3_*.py scenario scripts.

python3 tls_client.py MODE ENDPOINT [CA]
  verify  boto3.client(verify=CA)
  env     AWS_CA_BUNDLE from the environment, as SDKs read it
  none    the system's roots only: the server must be refused (exit 3)
Creates a secret and reads it back; prints "ok NAME". Only its own dummy value is ever printed.
"""

import sys
import uuid

import boto3
from botocore.exceptions import SSLError

mode, endpoint = sys.argv[1], sys.argv[2]
options = {"verify": sys.argv[3]} if mode == "verify" else {}
client = boto3.client("secretsmanager", endpoint_url=endpoint, **options)
name = "tls/" + uuid.uuid4().hex[:10]
try:
    client.create_secret(Name=name, SecretString="tls-dummy-value")
except SSLError as error:
    print(f"SSLError: {error}", file=sys.stderr)
    sys.exit(3)
value = client.get_secret_value(SecretId=name)["SecretString"]
if value != "tls-dummy-value":
    print(f"GetSecretValue returned {value!r}", file=sys.stderr)
    sys.exit(1)
print(f"ok {name}")
