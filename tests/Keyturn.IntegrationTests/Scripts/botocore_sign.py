"""Signs a captured request with botocore's SigV4 (the signer boto3 and the AWS CLI use) and prints its Authorization header.

Reads JSON on stdin: method, url, headers (exactly the headers the request signed, X-Amz-Date included), body (base64),
region, service, access_key, secret_key, token (optional). The time is the request's X-Amz-Date, so both signers sign
at the same instant. Used by the doctor's signing tests to check the hand-written clients against botocore.
"""

import base64
import json
import sys

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def main():
    spec = json.load(sys.stdin)
    request = AWSRequest(method=spec["method"], url=spec["url"], headers=spec["headers"], data=base64.b64decode(spec["body"]))
    auth = SigV4Auth(Credentials(spec["access_key"], spec["secret_key"], spec.get("token")), spec["service"], spec["region"])
    amz_date = next(v for k, v in spec["headers"].items() if k.lower() == "x-amz-date")
    request.context["timestamp"] = amz_date
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    signed = auth.signed_headers(auth.headers_to_sign(request))
    print(json.dumps({
        "authorization": f"AWS4-HMAC-SHA256 Credential={auth.scope(request)}, SignedHeaders={signed}, Signature={signature}",
        "canonical_request": canonical,
    }))


if __name__ == "__main__":
    main()
