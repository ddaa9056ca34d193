"""Owners' control over automations beyond the text: on/off per kind, retrying failed runs.

Template text itself is saved by lifecycle's `automation_templates.save_template`.
"""

from __future__ import annotations

from app.clock import utcnow
from app.errors import Conflict
from app.extensions import db
from app.models import AutomationRun, Org
from app.services.audit.events import record_event
from app.services.automations.runs import after_quiet_hours, client_quiet, enqueue_run, rearm_run
from app.services.automations.templates import save_template, template_for


def save_template_text(org_id: int, kind: str, body: str, actor: str = "system") -> None:
    """Save the text of one kind, leaving it switched on or off as it was."""
    _current, enabled = template_for(org_id, kind)
    save_template(org_id, kind, body, enabled=enabled, actor=actor)


def set_kind_enabled(org_id: int, kind: str, enabled: bool, actor: str = "system") -> None:
    """Switch one kind on or off (its text is kept); runs of a switched-off kind are skipped."""
    body, _was_enabled = template_for(org_id, kind)
    save_template(org_id, kind, body, enabled=enabled, actor=actor)


def retry_failed_run(run_id: int, actor: str = "system") -> AutomationRun:
    """Schedule a failed run again (as soon as quiet hours allow); the job re-checks everything."""
    run = db.session.get(AutomationRun, run_id)
    if run.status != "failed":
        raise Conflict(f"Only failed runs can be retried (this one is {run.status}).")
    org = db.session.get(Org, run.org_id)
    due = after_quiet_hours(utcnow(), org, client_quiet(run.booking.client, org))
    rearm_run(run, due)
    record_event(run.org_id, "automation.retried", booking_id=run.booking_id, actor=actor, automation=run.kind,
                 run_id=run.id)
    db.session.flush()
    enqueue_run(run.id, due)
    db.session.commit()
    return run
