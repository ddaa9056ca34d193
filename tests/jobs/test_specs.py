"""The job table: every row runs, and ids are the ones jobs already in Redis carry."""

from __future__ import annotations

from hashlib import sha256

import app.jobs
from app.jobs.queue import resolve
from app.jobs.specs import ALL_JOBS, JOBS, QUEUE_NAMES
from app.jobs.worker import MINUTELY_TASKS, PERIODIC_TASKS, WORKER_START_TASKS


def test_every_job_is_a_function_of_app_jobs_on_a_queue_the_workers_take():
    functions = {name for name, value in vars(app.jobs).items() if callable(value) and not name.startswith("_")}
    assert {spec.path.removeprefix("app.jobs.") for spec in ALL_JOBS} == functions
    for spec in ALL_JOBS:
        assert resolve(spec.path) is getattr(app.jobs, spec.path.rpartition(".")[2])
        assert spec.queue in QUEUE_NAMES


def test_job_ids_are_those_stored_before_the_table():
    """Reconcile asks Redis for these ids and enqueueing again replaces the job under them:
    a job queued by the code before the table must be found under the same id."""
    assert JOBS.send_message.id_for(42) == "send-message-42"
    assert JOBS.apply_status_callback.id_for(42) == "status-callback-42"
    assert JOBS.run_automation.id_for(42) == "automation-run-42"
    assert JOBS.fetch_inbound_media.id_for(42) == "fetch-media-42"
    assert JOBS.notify_window_opening.id_for(42) == "window-opening-42"
    assert JOBS.apply_stripe_event.id_for("evt_1Abc") == "stripe-event-evt_1Abc"
    # RQ allows [A-Za-z0-9_-] only: anything else goes in hashed, as before.
    odd = "evt 1/../x"
    assert JOBS.apply_stripe_event.id_for(odd) == f"stripe-event-h{sha256(odd.encode()).hexdigest()[:32]}"
    assert JOBS.notify_client_text.id_for(42) is None  # each such job is one of its own


def test_the_worker_runs_what_the_table_marks():
    assert WORKER_START_TASKS == ("app.jobs.reconcile",)
    assert PERIODIC_TASKS == ("app.jobs.reconcile", "app.jobs.complete_due_bookings",
                              "app.jobs.notify_windows_opening_soon", "app.jobs.reconcile_notifications",
                              "app.jobs.purge_expired_messages", "app.jobs.resume_provider_deletions")
    assert MINUTELY_TASKS == ("app.jobs.late_visits",)  # a late visit is noticed within a minute
    # Stripe events before texts and automation runs (issue 28), push deliveries last.
    assert QUEUE_NAMES == ("stripe", "default", "automations", "push")
