"""Prometheus series, counted in every process that does the work (web and worker).

Multiprocess mode: with PROMETHEUS_MULTIPROC_DIR set in the environment *before* this module
is imported (gunicorn, worker.py), prometheus-client keeps each process's values in files
there, and a scrape adds them up with a MultiProcessCollector on a fresh registry
(`render_metrics`). Without it (the embedded default, one process) they live in memory.

Labels are closed sets chosen here (a status, a route's rule, a queue name, a reconciler's
name): never a phone number, a message body, an org name or anything a request supplied.
The gauges of waiting work are not kept here: they are computed from the database at
scrape time (app.services.ops.queue_depth), so they are the truth, not a process's memory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _MULTIPROC_DIR:  # prometheus-client opens its files there as soon as a value exists
    os.makedirs(_MULTIPROC_DIR, exist_ok=True)

from prometheus_client import (  # noqa: E402 - after the directory exists
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

# The app's own series (not prometheus-client's default registry, which also holds the
# process and platform collectors of the importing process).
REGISTRY = CollectorRegistry(auto_describe=True)

TEXTS = Counter(
    "pawline_texts", "Outbound texts entering each status (queued, blocked, sent, delivered, failed, "
    "undelivered, unknown).", ["status"], registry=REGISTRY)
TEXT_PROVIDER_CALLS = Counter(
    "pawline_text_provider_calls", "Send calls to the SMS provider by outcome (accepted, transient_error, "
    "permanent_error).", ["provider", "outcome"], registry=REGISTRY)
WEBHOOK_REQUESTS = Counter(
    "pawline_webhook_requests", "Webhook requests by route (the URL rule) and HTTP status.",
    ["route", "status"], registry=REGISTRY)
WEBHOOK_LATENCY = Histogram(
    "pawline_webhook_request_duration_seconds", "Time to answer a webhook request, by route.", ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=REGISTRY)
RECONCILE_FOUND = Counter(
    "pawline_reconcile_found", "Rows reconcile found its job lost (re-enqueued) or stuck (settled), by kind.",
    ["kind"], registry=REGISTRY)
RECONCILE_RUNS = Counter(
    "pawline_reconcile_runs", "Reconcile passes by result (ok, failed, skipped: another process held the lock).",
    ["result"], registry=REGISTRY)
RECONCILE_LAST_RUN = Gauge(
    "pawline_reconcile_last_run_timestamp_seconds", "When a reconcile pass last finished (any process).",
    multiprocess_mode="max", registry=REGISTRY)
PUSH_DELIVERIES = Counter(
    "pawline_push_deliveries", "Web Push sends to one device by outcome (delivered, gone, error).",
    ["outcome"], registry=REGISTRY)
NOTIFICATIONS = Counter(
    "pawline_notifications", "Sitter notifications settled, by channel (push, sms, none) and status.",
    ["channel", "status"], registry=REGISTRY)
LOGIN_THROTTLED = Counter(
    "pawline_login_throttled", "Login, password-change and reset-code attempts refused by the throttle.",
    ["scope"], registry=REGISTRY)
LOGIN_LOCKOUTS = Counter(
    "pawline_login_lockouts", "Accounts locked by repeated login failures.", registry=REGISTRY)
LATE_VISITS = Counter(
    "pawline_late_visits", "Visits not checked in 15 minutes after their start (visit.late owner alerts).",
    registry=REGISTRY)

# The closed label sets (a value outside them is counted as "other").
TEXT_STATUSES = frozenset({"queued", "blocked", "sent", "delivered", "failed", "undelivered", "unknown"})
PROVIDER_OUTCOMES = frozenset({"accepted", "transient_error", "permanent_error"})
PUSH_OUTCOMES = frozenset({"delivered", "gone", "error"})
THROTTLE_SCOPES = frozenset({"login", "reset_code"})  # guessing a password or code; asking for codes


def _closed(value: str | None, allowed: Iterable[str]) -> str:
    return value if value in allowed else "other"


def count_text(status: str, n: int = 1) -> None:
    """A text entered `status` (n texts)."""
    TEXTS.labels(_closed(status, TEXT_STATUSES)).inc(n)


def count_provider_call(provider: str, outcome: str) -> None:
    TEXT_PROVIDER_CALLS.labels(_closed(provider, ("twilio", "outbox")), _closed(outcome, PROVIDER_OUTCOMES)).inc()


def observe_webhook(route: str, status: int, seconds: float) -> None:
    """`route` is the URL rule (a fixed string such as /webhooks/twilio/sms), never the path."""
    WEBHOOK_REQUESTS.labels(route, str(status)).inc()
    WEBHOOK_LATENCY.labels(route).observe(seconds)


def count_reconcile(counts: dict[str, int], *, result: str) -> None:
    """One reconcile pass: how many rows each reconciler acted on."""
    for kind, n in counts.items():
        if n:
            RECONCILE_FOUND.labels(kind).inc(n)
    RECONCILE_RUNS.labels(_closed(result, ("ok", "failed", "skipped"))).inc()
    if result != "skipped":  # a pass ran here (a failed one too: the alert is about no pass at all)
        RECONCILE_LAST_RUN.set(time.time())


def count_push(outcome: str) -> None:
    PUSH_DELIVERIES.labels(_closed(outcome, PUSH_OUTCOMES)).inc()


def count_notification(channel: str, status: str) -> None:
    NOTIFICATIONS.labels(_closed(channel, ("push", "sms", "none")),
                         _closed(status, ("sent", "failed", "no_device", "skipped"))).inc()


def count_login_throttled(scope: str) -> None:
    LOGIN_THROTTLED.labels(_closed(scope, THROTTLE_SCOPES)).inc()


def count_lockout() -> None:
    LOGIN_LOCKOUTS.inc()


def count_late_visit(n: int = 1) -> None:
    """Call where a `visit.late` owner alert is raised (once per visit)."""
    LATE_VISITS.inc(n)


def _initialise_series() -> None:
    """Every value of the closed label sets at 0, so a series exists (and an alert on it can
    be evaluated) before the first event, in every process."""
    for status in TEXT_STATUSES:
        TEXTS.labels(status)
    for provider in ("twilio", "outbox"):
        for outcome in PROVIDER_OUTCOMES:
            TEXT_PROVIDER_CALLS.labels(provider, outcome)
    for outcome in PUSH_OUTCOMES:
        PUSH_DELIVERIES.labels(outcome)
    for scope in THROTTLE_SCOPES:
        LOGIN_THROTTLED.labels(scope)
    for result in ("ok", "failed", "skipped"):
        RECONCILE_RUNS.labels(result)


_initialise_series()


class _AppSeries:
    """This process's series (single-process mode), as a collector for a fresh registry."""

    def collect(self):
        yield from REGISTRY.collect()


def multiprocess_mode() -> bool:
    """True when this process writes its values to PROMETHEUS_MULTIPROC_DIR."""
    return bool(_MULTIPROC_DIR)


def render_metrics(multiproc_dir: str | None, collectors: Iterable = ()) -> tuple[bytes, str]:
    """The text exposition of one scrape: a fresh registry each time, with every process's
    values (MultiProcessCollector over `multiproc_dir`) or this process's, plus `collectors`
    (computed now, e.g. from the database). Returns (body, content type)."""
    registry = CollectorRegistry()  # no auto-describe: a collector's collect() runs once, at the scrape
    if multiproc_dir:
        MultiProcessCollector(registry, path=multiproc_dir)
    else:
        registry.register(_AppSeries())
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST
