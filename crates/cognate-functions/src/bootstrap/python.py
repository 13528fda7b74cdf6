"""Cognate's Python runtime: runs a Lambda handler against the AWS Lambda Runtime API served by
Cognate. Standard library only. Environment: AWS_LAMBDA_RUNTIME_API (host:port),
LAMBDA_TASK_ROOT (the code), _HANDLER ("dir/module.function")."""

import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
BASE = "/2018-06-01/runtime"


class RuntimeClient:
    def __init__(self):
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(API)
            try:
                self.conn.request(method, BASE + path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.headers, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    def post_json(self, path, document, error_type=None):
        headers = {"Content-Type": "application/json"}
        if error_type:
            headers["Lambda-Runtime-Function-Error-Type"] = error_type
        self.request("POST", path, json.dumps(document).encode("utf-8"), headers)


class InitError(Exception):
    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack = stack or []


class LambdaContext:
    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context, identity):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return int(max(self._deadline_ms - time.time() * 1000, 0))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id={0},log_group_name={1},log_stream_name={2},"
            "function_name={3},memory_limit_in_mb={4},function_version={5},"
            "invoked_function_arn={6}])"
        ).format(
            self.aws_request_id,
            self.log_group_name,
            self.log_stream_name,
            self.function_name,
            self.memory_limit_in_mb,
            self.function_version,
            self.invoked_function_arn,
        )


def stack_of(tb):
    return [line for line in traceback.format_list(traceback.extract_tb(tb))]


def load_handler():
    handler = os.environ.get("_HANDLER", "")
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if root not in sys.path:
        sys.path.insert(0, root)
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as e:
        raise InitError("Runtime.MalformedHandlerName", "Bad handler '{}': {}".format(handler, e))
    module_path = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_path)
    except ImportError as e:
        raise InitError(
            "Runtime.ImportModuleError",
            "Unable to import module '{}': {}".format(module_name, e),
        )
    except SyntaxError as e:
        raise InitError(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '{}': {}".format(module_name, e),
            stack_of(e.__traceback__),
        )
    except Exception as e:
        raise InitError(type(e).__name__, str(e), stack_of(e.__traceback__))
    function = getattr(module, function_name, None)
    if function is None:
        raise InitError(
            "Runtime.HandlerNotFound",
            "Handler '{}' missing on module '{}'".format(function_name, module_name),
        )
    return function


def header(headers, name):
    value = headers.get(name)
    return value if value else None


def json_header(headers, name):
    value = header(headers, name)
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def main():
    client = RuntimeClient()
    try:
        handler = load_handler()
    except InitError as e:
        print("[ERROR] {}: {}".format(e.error_type, e.message), file=sys.stderr)
        client.post_json(
            "/init/error",
            {"errorMessage": e.message, "errorType": e.error_type, "stackTrace": e.stack},
            e.error_type,
        )
        sys.exit(1)

    while True:
        status, headers, body = client.request("GET", "/invocation/next")
        if status != 200:
            raise RuntimeError("Runtime API /invocation/next answered {}: {!r}".format(status, body))
        request_id = header(headers, "Lambda-Runtime-Aws-Request-Id")
        trace_id = header(headers, "Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        context = LambdaContext(
            request_id,
            int(header(headers, "Lambda-Runtime-Deadline-Ms") or 0),
            header(headers, "Lambda-Runtime-Invoked-Function-Arn"),
            json_header(headers, "Lambda-Runtime-Client-Context"),
            json_header(headers, "Lambda-Runtime-Cognito-Identity"),
        )
        try:
            event = json.loads(body)
        except ValueError as e:
            client.post_json(
                "/invocation/{}/error".format(request_id),
                {"errorMessage": str(e), "errorType": "Runtime.UnmarshalError", "stackTrace": []},
                "Runtime.UnmarshalError",
            )
            continue
        try:
            result = handler(event, context)
        except Exception as e:
            error_type = type(e).__name__
            stack = stack_of(e.__traceback__)[1:]
            print(
                "[ERROR] {}: {}\nTraceback (most recent call last):\n{}".format(
                    error_type, e, "".join(stack)
                ),
                file=sys.stderr,
            )
            client.post_json(
                "/invocation/{}/error".format(request_id),
                {
                    "errorMessage": str(e),
                    "errorType": error_type,
                    "requestId": request_id,
                    "stackTrace": stack,
                },
                error_type,
            )
            continue
        try:
            payload = json.dumps(result).encode("utf-8")
        except (TypeError, ValueError) as e:
            client.post_json(
                "/invocation/{}/error".format(request_id),
                {
                    "errorMessage": "Unable to marshal response: {}".format(e),
                    "errorType": "Runtime.MarshalError",
                    "requestId": request_id,
                    "stackTrace": [],
                },
                "Runtime.MarshalError",
            )
            continue
        client.request(
            "POST",
            "/invocation/{}/response".format(request_id),
            payload,
            {"Content-Type": "application/json"},
        )


if __name__ == "__main__":
    main()
