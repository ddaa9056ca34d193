"""Log lines that say which request or job wrote them, as JSON objects in production.

Every record gets `request_id` (the web request it belongs to: the caller's `X-Request-ID`
or one made here) and `job_id` (the queue job being run), from context variables set by the
request hooks (app.web.request_ids) and the job runners (app.jobs.queue, app.jobs.worker).
The number masking of app.privacy stays where it is (its LogRecord factory runs first); the
JSON formatter masks once more what it adds itself (a traceback it formats, `extra` fields).

python-json-logger rather than structlog: every line here, Pawline's and gunicorn's, RQ's and
SQLAlchemy's, is a stdlib `logging` record already, and the masking is a stdlib LogRecord
factory; a stdlib Formatter turns exactly those records into JSON with nothing to bridge.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from app.privacy import mask_log_text

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s"

current_request_id: ContextVar[str | None] = ContextVar("pawline_request_id", default=None)
current_job_id: ContextVar[str | None] = ContextVar("pawline_job_id", default=None)

# What a caller may hand us as a request id: a proxy's or load balancer's id (UUIDs, hex,
# "Root=1-…" style ids); anything else (control characters, a number, a kilobyte) is replaced.
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:=-]{7,127}")


def request_id_from(header_value: str | None) -> str:
    """The caller's request id when it is a plausible one, else a fresh one."""
    if header_value and _ACCEPTABLE_REQUEST_ID.fullmatch(header_value) and \
            mask_log_text(header_value) == header_value:  # never a phone number as an id
        return header_value
    return uuid.uuid4().hex


@contextmanager
def _bound(var: ContextVar, value):
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def job_context(job_id: str | None):
    """Log records made inside the block carry this job id."""
    return _bound(current_job_id, job_id)


def request_context(request_id: str | None):
    """Log records made inside the block carry this request id (work a request left for after
    its response, which runs once the request's own context has ended)."""
    return _bound(current_request_id, request_id)


def install_log_context() -> None:
    """Every record gets `request_id` and `job_id` (None outside a request or a job), and
    `context` (" [request …]" / " [job …]") for the text format. A LogRecord factory, like the
    masking, so records of every logger and handler carry them."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_adds_log_context", False):
        return

    def factory(*args, **kwargs):
        record = current(*args, **kwargs)
        request_id, job_id = current_request_id.get(), current_job_id.get()
        # Under names of our own: a caller's `extra={"job_id": …}` (RQ's worker logs so) must not
        # collide with an attribute the factory already set (logging raises KeyError, and the
        # RQ worker quits). The JSON formatter names them request_id and job_id.
        record.pawline_request_id, record.pawline_job_id = request_id, job_id
        record.context = (f" [request {request_id}]" if request_id else "") + (f" [job {job_id}]" if job_id else "")
        return record

    factory._adds_log_context = True
    factory._masks_phone_numbers = getattr(current, "_masks_phone_numbers", False)
    logging.setLogRecordFactory(factory)


def _masked(value):
    if isinstance(value, str):
        return mask_log_text(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


class JsonLogFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, job_id (and
    exc_info, and any `extra` fields), every string masked like the text lines."""

    def __init__(self):
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(pawline_request_id)s %(pawline_job_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            reserved_attrs=(*RESERVED_ATTRS, "_phones_masked", "context"),
            json_ensure_ascii=False,
        )

    def formatException(self, ei) -> str:  # noqa: N802 - logging.Formatter's name
        # The masking factory masked record.exc_text, but this formatter formats exc_info again.
        return mask_log_text(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return mask_log_text(super().formatStack(stack_info))

    def process_log_record(self, log_data: dict) -> dict:
        for ours, name in (("pawline_request_id", "request_id"), ("pawline_job_id", "job_id")):
            value = log_data.pop(ours, None)
            if log_data.get(name) is None:
                log_data[name] = value
        return _masked(log_data)


class TextLogFormatter(logging.Formatter):
    """The development format, with " [request …]" / " [job …]" after the logger's name."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "context"):  # a record made before install_log_context
            record.context = ""
        return super().format(record)


def formatter_for(log_format: str) -> logging.Formatter:
    """The formatter of LOG_FORMAT: `json` (one object per line) or `text`."""
    return JsonLogFormatter() if log_format == "json" else TextLogFormatter()
