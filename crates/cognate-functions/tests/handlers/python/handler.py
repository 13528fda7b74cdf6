"""Python handlers used by cognate-functions' tests."""

import os
import time

invocations = 0


def echo(event, context):
    global invocations
    invocations += 1
    print("echo invocation {} for {}".format(invocations, context.function_name))
    return {
        "event": event,
        "invocations": invocations,
        "pid": os.getpid(),
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining": context.get_remaining_time_in_millis(),
        },
        "env": {
            "FROM_FUNCTION": os.environ.get("FROM_FUNCTION"),
            "FROM_HOST": os.environ.get("FROM_HOST"),
            "AWS_LAMBDA_FUNCTION_NAME": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
            "AWS_REGION": os.environ.get("AWS_REGION"),
            "AWS_EXECUTION_ENV": os.environ.get("AWS_EXECUTION_ENV"),
            "TZ": os.environ.get("TZ"),
        },
    }


def fail(event, context):
    raise ValueError("Python says no")


def slow(event, context):
    time.sleep(event["ms"] / 1000)
    return {"pid": os.getpid()}


def unserializable(event, context):
    return {"when": object()}
