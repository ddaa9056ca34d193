"""Owners' control over automations: template text, on/off per kind, retrying failed runs."""

from __future__ import annotations

from sqlalchemy import select

from app.clock import utcnow
from app.errors import Conflict, InvalidInput
from app.extensions import db
from app.models import AUTOMATION_KINDS, AutomationRun, AutomationTemplate, Org
from app.services.audit import record_event
from app.services.automation_templates import DEFAULT_TEMPLATES, validate_template
from app.services.automations import after_quiet_hours, enqueue_run


def _template_row(org_id: int, kind: str) -> AutomationTemplate:
    if kind not in AUTOMATION_KINDS:
        raise InvalidInput(f"Unknown automation kind {kind!r}.", field="kind")
    row = db.session.scalar(select(AutomationTemplate).where(AutomationTemplate.org_id == org_id,
                                                             AutomationTemplate.kind == kind))
    if row is None:
        row = AutomationTemplate(org_id=org_id, kind=kind, body=DEFAULT_TEMPLATES[kind], enabled=True)
        db.session.add(row)
    return row


def save_template(org_id: int, kind: str, body: str, actor: str = "system") -> AutomationTemplate:
    """Store the org's text for one kind; refused (InvalidInput at `body`) unless it renders."""
    body = (body or "").strip()
    errors = validate_template(body)
    if errors:
        raise InvalidInput(" ".join(errors), field="body")
    row = _template_row(org_id, kind)
    row.body = body
    record_event(org_id, "automation.template_saved", actor=actor, automation=kind)
    db.session.commit()
    return row


def reset_template(org_id: int, kind: str, actor: str = "system") -> AutomationTemplate:
    row = _template_row(org_id, kind)
    row.body = DEFAULT_TEMPLATES[kind]
    record_event(org_id, "automation.template_reset", actor=actor, automation=kind)
    db.session.commit()
    return row


def set_kind_enabled(org_id: int, kind: str, enabled: bool, actor: str = "system") -> AutomationTemplate:
    """Switch one kind on or off; runs of a switched-off kind are skipped when due."""
    row = _template_row(org_id, kind)
    row.enabled = enabled
    record_event(org_id, "automation.enabled" if enabled else "automation.disabled", actor=actor, automation=kind)
    db.session.commit()
    return row


def retry_failed_run(run_id: int, actor: str = "system") -> AutomationRun:
    """Schedule a failed run again (as soon as quiet hours allow); the job re-checks everything."""
    run = db.session.get(AutomationRun, run_id)
    if run.status != "failed":
        raise Conflict(f"Only failed runs can be retried (this one is {run.status}).")
    org = db.session.get(Org, run.org_id)
    due = after_quiet_hours(utcnow(), org)
    run.status, run.scheduled_for, run.reason = "scheduled", due, None
    record_event(run.org_id, "automation.retried", booking_id=run.booking_id, actor=actor, automation=run.kind,
                 run_id=run.id)
    db.session.flush()
    enqueue_run(run.id, run.job_id, due)
    db.session.commit()
    return run
