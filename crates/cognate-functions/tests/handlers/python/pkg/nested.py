"""A handler in a folder: "pkg/nested.handler"."""


def handler(event, context):
    return {"nested": True, "request_id": context.aws_request_id}
