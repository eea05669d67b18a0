"""Shared helpers for the boto3 compatibility scripts (not a test itself).

Every script is a set of scenarios: `python3 boto3_x.py NAME...` runs the named ones (all when none
is given), `--list` prints their names. An assertion that fails prints what was expected and what
came back, then exits 1, so the first broken expectation is the one reported. Only the scripts' own
dummy values are ever printed. KEYTURN_KEEP_GOING=1 reports every failure instead (for triage).
"""

import datetime
import inspect
import json
import os
import pprint
import re
import sys
import traceback
import uuid

import boto3
from botocore.exceptions import ClientError

ACCOUNT_ARN_PREFIX = "arn:aws:secretsmanager:us-east-1:"
MARKED_FOR_DELETION = "You can't perform this operation on the secret because it was marked for deletion."
NOT_FOUND = "Secrets Manager can't find the specified secret."

_failures = []
_scenario = ["?"]


_last_raw = {}


def _remember_raw(http_response, model, **_):
    _last_raw[model.name] = (http_response.status_code, http_response.content or b"")


def client():
    c = boto3.client("secretsmanager", endpoint_url=os.environ["KEYTURN_ENDPOINT"])
    # Keep each operation's last raw response, to check the wire form that botocore would otherwise smooth over.
    c.meta.events.register("after-call.secretsmanager", _remember_raw)
    return c


def raw_json(operation):
    """The JSON body of the last response to `operation`, as it came over the wire."""
    return json.loads(_last_raw[operation][1] or b"{}")


def check_wire_timestamps(operation, members):
    """Timestamps travel as epoch seconds (JSON numbers, at most 3 decimals), never as strings."""
    document = raw_json(operation)
    for path in members:
        value = document
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            fail(f"{operation}: wire member {path}", "present", "(absent)")
            continue
        check(isinstance(value, (int, float)) and not isinstance(value, bool), f"{operation}: wire {path} must be a JSON number of epoch seconds", value)
        if isinstance(value, float):
            check(round(value, 3) == value, f"{operation}: wire {path} has at most 3 decimals", value)


def unique(prefix):
    """A secret name no other test on the shared server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def token():
    return str(uuid.uuid4())


def fmt(value):
    return pprint.pformat(value, width=120, sort_dicts=True)


def fail(what, expected, actual):
    message = f"FAIL [{_scenario[0]}] {what}\n  expected: {fmt(expected)}\n  got:      {fmt(actual)}"
    print(message, file=sys.stderr, flush=True)
    if os.environ.get("KEYTURN_KEEP_GOING") == "1":
        _failures.append(message)
        return
    sys.exit(1)


def eq(actual, expected, what):
    if actual != expected:
        fail(what, expected, actual)


def check(condition, what, actual=None):
    if not condition:
        fail(what, "condition to hold", actual)


def body(response):
    """A response without botocore's ResponseMetadata."""
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def members(response):
    return sorted(body(response))


def eq_members(response, expected, what):
    eq(members(response), sorted(expected), f"{what}: response members")


def absent(response, member, what):
    if member in response:
        fail(f"{what}: member {member} must be absent", "(absent)", response[member])


def arn_pattern(name):
    return re.compile("^" + re.escape(ACCOUNT_ARN_PREFIX) + r"\d{12}:secret:" + re.escape(name) + r"-[A-Za-z0-9]{6}$")


def check_arn(arn, name, what):
    check(isinstance(arn, str) and arn_pattern(name).match(arn) is not None,
          f"{what}: ARN must be arn:aws:secretsmanager:us-east-1:<account>:secret:{name}-<6 alphanumerics>", arn)


def check_timestamp(value, what, near=True):
    """A timestamp must reach boto3 as a timezone-aware datetime (epoch seconds on the wire)."""
    if not isinstance(value, datetime.datetime) or value.tzinfo is None:
        fail(f"{what}: must be a timezone-aware datetime", "datetime", value)
        return
    if near:
        now = datetime.datetime.now(datetime.timezone.utc)
        check(abs((value - now).total_seconds()) < 600, f"{what}: must be within 10 minutes of now ({now.isoformat()})", value)


def check_day(value, what):
    """LastAccessedDate: day resolution, i.e. UTC midnight of today."""
    check_timestamp(value, what, near=False)
    if not isinstance(value, datetime.datetime):
        return
    utc = value.astimezone(datetime.timezone.utc)
    eq((utc.hour, utc.minute, utc.second, utc.microsecond), (0, 0, 0, 0), f"{what}: must be UTC midnight (day resolution), was {utc.isoformat()}")
    today = datetime.datetime.now(datetime.timezone.utc).date()
    check(utc.date() in (today, today - datetime.timedelta(days=1)), f"{what}: must be today ({today})", utc.isoformat())


def expect_error(code, message, call, *args, **kwargs):
    """Runs call and requires a ClientError with this code, this exact Message (unless None) and HTTP 400."""
    what = f"{getattr(call, '__name__', call)}({', '.join(f'{k}={v!r}' for k, v in kwargs.items() if k not in ('SecretString', 'SecretBinary'))})"
    try:
        result = call(*args, **kwargs)
    except ClientError as error:
        err = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        eq(err.get("Code"), code, f"{what}: Error.Code")
        if message is not None:
            eq(err.get("Message"), message, f"{what}: Error.Message")
        eq(status, 400, f"{what}: HTTP status")
        operation = error.operation_name
        if operation in _last_raw:
            wire = raw_json(operation)
            eq(sorted(wire), ["Message", "__type"], f"{what}: members of the raw error body")
            eq(wire.get("__type"), code, f"{what}: raw __type is the plain code")
        return error.response
    fail(f"{what}: should have failed with {code}", code, body(result))
    return None


def versions(c, secret_id, include_deprecated=False):
    """ListSecretVersionIds as {versionId: sorted labels or None when the member is absent}."""
    listed = c.list_secret_version_ids(SecretId=secret_id, IncludeDeprecated=include_deprecated)
    check("NextToken" not in listed, "ListSecretVersionIds of a few versions must have no NextToken member", listed.get("NextToken"))
    result = {}
    for version in listed["Versions"]:
        if version["VersionId"] in result:
            fail("ListSecretVersionIds: duplicate version", "each version once", version["VersionId"])
        result[version["VersionId"]] = sorted(version["VersionStages"]) if "VersionStages" in version else None
    return result


def eq_versions(c, secret_id, expected, what, include_deprecated=False):
    """expected: {versionId: [labels]} (None = listed without a VersionStages member)."""
    normalized = {k: (sorted(v) if v is not None else None) for k, v in expected.items()}
    eq(versions(c, secret_id, include_deprecated), normalized, f"{what}: ListSecretVersionIds(IncludeDeprecated={include_deprecated})")


def run(namespace):
    """Runs the scenarios (module functions named scenario_*) selected on the command line."""
    scenarios = {name[len("scenario_"):]: fn for name, fn in namespace.items()
                 if name.startswith("scenario_") and inspect.isfunction(fn)}
    arguments = sys.argv[1:]
    if arguments == ["--list"]:
        print("\n".join(sorted(scenarios)))
        return
    unknown = [a for a in arguments if a not in scenarios]
    if unknown:
        print(f"unknown scenario(s) {unknown}; known: {sorted(scenarios)}", file=sys.stderr)
        sys.exit(2)
    for name in arguments or sorted(scenarios):
        _scenario[0] = name
        before = len(_failures)
        try:
            scenarios[name](client())
        except SystemExit:
            raise
        except Exception:  # noqa: BLE001 - an unexpected exception is a failure with its traceback
            print(f"FAIL [{name}] unexpected exception:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
            if os.environ.get("KEYTURN_KEEP_GOING") != "1":
                sys.exit(1)
            _failures.append(name)
            continue
        print(f"ok {name}" if len(_failures) == before else f"FAILED {name}", flush=True)
    if _failures:
        print(f"{len(_failures)} failure(s)", file=sys.stderr)
        sys.exit(1)
