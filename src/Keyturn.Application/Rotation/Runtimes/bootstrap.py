# Keyturn's Python runtime for Lambda handlers: one warm worker per function, like a Lambda execution environment.
# It imports the handler's module once, then serves invocations until its request pipe closes. The protocol is JSON
# lines on two private descriptors (4: requests in, 3: responses out, set up by the launcher); descriptor 1 is the
# log pipe, so print() and logging stay the function's log output, formatted as Lambda's Python runtime does.
import importlib
import json
import logging
import os
import sys
import time
import traceback

REQUESTS_FD, RESPONSES_FD = 4, 3
END_OF_INVOCATION = "\x1ekeyturn-end "

_requests = os.fdopen(REQUESTS_FD, "r", encoding="utf-8", closefd=True)
_responses = os.fdopen(RESPONSES_FD, "w", encoding="utf-8", closefd=True)
os.set_inheritable(REQUESTS_FD, False)
os.set_inheritable(RESPONSES_FD, False)
_request_id = None


def _send(message):
    _responses.write(json.dumps(message) + "\n")
    _responses.flush()


def _end_of_output(request_id):
    # Everything the invocation wrote comes before this marker on the log pipe, so Keyturn keeps all of it.
    sys.stdout.flush()
    sys.stderr.flush()
    sys.stderr.write(END_OF_INVOCATION + request_id + "\n")
    sys.stderr.flush()


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id
        return True


def _setup_logging():
    # As Lambda's runtime: UTC times, a handler on the root logger, the level left to the function.
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


class LambdaContext:
    def __init__(self, request):
        self.aws_request_id = request["requestId"]
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.invoked_function_arn = request["invokedFunctionArn"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = request["logStreamName"]
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + request["remainingMs"] / 1000.0

    def get_remaining_time_in_millis(self):
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def _error(error_type, message, tb=None):
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": _request_id or "",
        "stackTrace": traceback.format_list(traceback.extract_tb(tb)) if tb is not None else [],
    }


def _log_error(error):
    # Lambda's shape: "[ERROR] Type: message", then the traceback.
    lines = ["[ERROR] " + error["errorType"] + ": " + error["errorMessage"]]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            lines.extend(element.splitlines())
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _load(handler):
    module_name, _, function_name = handler.rpartition(".")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        return None, _error("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, e), e.__traceback__.tb_next)
    except Exception as e:
        return None, _error("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, e), e.__traceback__.tb_next)
    function = getattr(module, function_name, None)
    if function is None:
        return None, _error("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return function, None


def _with_credentials(request):
    # The invocation's own key, in the variables the SDKs read; boto3's default session caches what it found, so it is
    # dropped to let clients created in this invocation see this key.
    os.environ["AWS_ACCESS_KEY_ID"] = request["accessKeyId"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = request["secretAccessKey"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ["AWS_LAMBDA_LOG_STREAM_NAME"] = request["logStreamName"]
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None


def main():
    global _request_id
    code = os.environ["LAMBDA_TASK_ROOT"]
    os.chdir(code)
    sys.path.insert(0, code)
    _setup_logging()
    started = time.monotonic()
    handler, init_error = _load(os.environ["_HANDLER"])
    if init_error is not None:
        _log_error(init_error)
        _send({"type": "initError", "error": init_error})
        return 1
    _send({"type": "ready", "initMs": (time.monotonic() - started) * 1000.0})

    for line in _requests:
        request = json.loads(line)
        _request_id = request["requestId"]
        _with_credentials(request)
        try:
            result = handler(request["event"], LambdaContext(request))
            try:
                json.dumps(result)
                response = {"type": "result", "requestId": _request_id, "payload": result}
            except (TypeError, ValueError) as e:
                error = _error("Runtime.MarshalError", "Unable to marshal response: %s" % e)
                _log_error(error)
                response = {"type": "error", "requestId": _request_id, "error": error}
        except Exception as e:
            error = _error(type(e).__name__, str(e), e.__traceback__.tb_next)
            _log_error(error)
            response = {"type": "error", "requestId": _request_id, "error": error}
        finally:
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                os.environ.pop(name, None)
        _end_of_output(_request_id)
        _send(response)
        _request_id = None
    return 0


if __name__ == "__main__":
    sys.exit(main())
