"""The checklist a sitter ticks on a visit report, per service; owners edit it."""

from __future__ import annotations

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput
from app.extensions import db
from app.models import Booking
from app.models.visits import DEFAULT_CHECKLIST, ServiceChecklist
from app.privacy import redact_for_sitter
from app.services.audit.events import record_event

MAX_ITEMS = 12
MAX_ITEM_LENGTH = 40


def checklist_for(org_id: int, service: str) -> list[str]:
    """The service's own list, or the default one (fed, water, walk, medication, litter)."""
    items = db.session.scalar(select(ServiceChecklist.items).where(ServiceChecklist.org_id == org_id,
                                                                    ServiceChecklist.service == service))
    return list(items) if items is not None else list(DEFAULT_CHECKLIST)


def checklists_by_service(org_id: int) -> list[tuple[str, list[str], bool]]:
    """(service, items, customised) for every service the org has booked or given a list, by name."""
    saved = {row.service: list(row.items) for row in db.session.scalars(
        select(ServiceChecklist).where(ServiceChecklist.org_id == org_id))}
    booked = set(db.session.scalars(select(Booking.service).where(Booking.org_id == org_id).distinct()))
    return [(service, saved.get(service, list(DEFAULT_CHECKLIST)), service in saved)
            for service in sorted(booked | set(saved), key=str.lower)]


def parse_items(text: str | None) -> list[str]:
    """One item a line; blank lines dropped, duplicates kept once, each item short and printable."""
    items: list[str] = []
    for line in (text or "").splitlines():
        item = " ".join(line.split())
        if not item:
            continue
        if len(item) > MAX_ITEM_LENGTH or any(not ch.isprintable() for ch in item):
            raise InvalidInput(f"Keep each item under {MAX_ITEM_LENGTH} characters, one a line.", field="items")
        if redact_for_sitter(item) != item:  # sitters read these: no number or e-mail address
            raise InvalidInput("Keep phone numbers and e-mail addresses out of checklist items.", field="items")
        if item.lower() not in (i.lower() for i in items):
            items.append(item)
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"At most {MAX_ITEMS} items in one checklist.", field="items")
    return items


def set_checklist(org_id: int, service: str, items_text: str, actor: str = "system") -> list[str]:
    """Save the service's checklist (an empty list means "no checklist" for that service)."""
    service = " ".join((service or "").split())
    if not service or len(service) > 80:
        raise InvalidInput("Name the service (up to 80 characters).", field="service")
    items = parse_items(items_text)
    row = db.session.scalar(select(ServiceChecklist).where(ServiceChecklist.org_id == org_id,
                                                           ServiceChecklist.service == service))
    if row is None:
        row = ServiceChecklist(org_id=org_id, service=service, items=items, created_at=utcnow())
        db.session.add(row)
    else:
        row.items = items
    record_event(org_id, "visit.checklist_changed", actor=actor, service=service, items=items)
    db.session.commit()
    return items
