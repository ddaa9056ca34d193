"""Error reports to Sentry when SENTRY_DSN is set, masked like the logs.

Flask and RQ integrations (an exception in a request or in a job is one event), no
personal data by the SDK's own switch (`send_default_pii=False`), no local variables and no
request bodies (a webhook's form holds a client's number and text), and every string of an
event and of each breadcrumb passes through the same masking as a log line
(app.privacy.mask_log_text) before it leaves the process.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from app.observability.logs import current_job_id, current_request_id
from app.privacy import mask_log_text

log = logging.getLogger(__name__)

FILTERED = "[Filtered]"
# Request headers that are secrets or signatures: never sent, whatever they hold.
_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-twilio-signature", "stripe-signature",
                             "x-csrftoken", "x-csrf-token"})


def mask_everything(value: Any) -> Any:
    """Every string inside `value` (dicts, lists, tuples) with phone numbers cut to four digits."""
    if isinstance(value, str):
        return mask_log_text(value)
    if isinstance(value, dict):
        return {key: mask_everything(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_everything(item) for item in value]
    return value


def _scrub_request(request: dict) -> dict:
    request = dict(request)
    if "data" in request:
        request["data"] = FILTERED  # a form or JSON body: a client's number, a message body
    request.pop("cookies", None)
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {name: (FILTERED if name.lower() in _SECRET_HEADERS else item)
                              for name, item in headers.items()}
    return request


def _drop_frame_variables(event: dict) -> None:
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """Sentry's before_send: the event with request bodies and frame variables gone, every
    remaining string masked, and the request's or job's id as tags (they lead to the log lines)."""
    tags = event.setdefault("tags", {})
    for name, current in (("request_id", current_request_id), ("job_id", current_job_id)):
        if current.get() and isinstance(tags, dict):
            tags.setdefault(name, current.get())
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    _drop_frame_variables(event)
    return mask_everything(event)


def scrub_breadcrumb(crumb: dict, hint: dict | None = None) -> dict:
    """Sentry's before_breadcrumb: log lines and HTTP calls (a provider URL's query) masked."""
    return mask_everything(crumb)


def init_error_reports(config: dict) -> bool:
    """Start the Sentry SDK when SENTRY_DSN is set; True when it was started.

    SENTRY_TRANSPORT (tests only) replaces the SDK's network transport.
    """
    dsn = config.get("SENTRY_DSN")
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration
    from sentry_sdk.integrations.rq import RqIntegration

    options: dict[str, Any] = {
        "dsn": dsn,
        "integrations": [FlaskIntegration(), RqIntegration()],
        "environment": config.get("APP_ENV"),
        "release": config.get("SENTRY_RELEASE"),
        "send_default_pii": False,
        "include_local_variables": False,
        "max_request_body_size": "never",
        "before_send": scrub_event,
        "before_breadcrumb": scrub_breadcrumb,
    }
    if config.get("SENTRY_TRANSPORT") is not None:
        options["transport"] = config["SENTRY_TRANSPORT"]
    with warnings.catch_warnings():
        # sentry-sdk 2.7x deprecates send_default_pii for `data_collection` (same default: off);
        # the explicit False stays, on every 2.x, as the promise this module makes.
        warnings.filterwarnings("ignore", message="The send_default_pii option is deprecated",
                                category=DeprecationWarning)
        sentry_sdk.init(**options)
    log.info("error reports go to Sentry (environment %s)", config.get("APP_ENV"))
    return True
