"""The yardstick job: what RQ and the worker's app context cost with no work inside."""


def noop(message_id: int) -> str:
    return "ok"
