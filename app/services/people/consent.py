"""The consent ledger: every grant and revocation of a client's consent to texts, append-only.

A row names who (the number, as a keyed hash, and the client while there is one), when (UTC,
and the client's zone), how (`method`; the staff user or the inbound message it came from) and
the exact wording shown with its version. Revocations are new rows, never deletes.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from app.clock import utcnow
from app.extensions import db
from app.models import Client, ConsentEvent, Org, User
from app.services.people.timezones import client_zone_name, zone_of_number, zones_of_number

# How an owner or staff member may say consent was given (the client form's required choice).
STAFF_METHODS = {
    "booking_form": "Ticked the consent box on our booking form",
    "verbal": "Agreed by phone or in person (I am recording it)",
    "written": "Agreed in writing (e-mail, signed form)",
}
METHOD_LABELS = {
    **STAFF_METHODS,
    "client_texted_first": "Texted us first",
    "keyword_stop": "Replied STOP",
    "keyword_start": "Replied START",
    "plain_language": "Asked in their own words to stop",
    "provider_opt_out": "Opted out at the carrier (Twilio 21610)",
}

DEFAULT_CONSENT_WORDING = (
    "By giving us your mobile number you agree to receive texts from {business} about your "
    "pet-sitting bookings (confirmations, reminders and messages from your sitter). Message "
    "frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to opt out."
)


def phone_hash(e164: str) -> str:
    """HMAC-SHA256 of the number with SECRET_KEY: the ledger's "who", kept after an erase."""
    key = (current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, (e164 or "").encode(), hashlib.sha256).hexdigest()


def consent_wording(org: Org) -> str:
    """The wording shown where consent is collected (the org's, or the default), with the name in."""
    return (org.consent_wording or DEFAULT_CONSENT_WORDING).replace("{business}", org.name)


def record_consent(org_id: int, phone_e164: str, kind: str, method: str, *, client: Client | None = None,
                   wording: str | None = None, wording_version: int | None = None,
                   user_id: int | None = None, message_id: int | None = None) -> ConsentEvent:
    """Add one ledger row in the caller's transaction (the caller commits)."""
    event = ConsentEvent(org_id=org_id, client_id=client.id if client is not None else None,
                         phone_hash=phone_hash(phone_e164), kind=kind, method=method,
                         wording=(wording or None), wording_version=wording_version,
                         zone=_zone_at(org_id, client, phone_e164),
                         recorded_by_user_id=user_id, message_id=message_id, created_at=utcnow())
    db.session.add(event)
    return event


def _zone_at(org_id: int, client: Client | None, phone_e164: str) -> str:
    """The person's zone for the ledger; the org is read only when the number cannot say alone."""
    if client is not None and client.timezone:
        return client.timezone
    zones = zones_of_number(phone_e164)
    if len(zones) == 1:
        return zones[0]
    org = db.session.get(Org, org_id)
    return client_zone_name(client, org) if client is not None else (zone_of_number(phone_e164, org.timezone)
                                                                     or org.timezone)


def record_staff_consent(client: Client, method: str, user_id: int | None) -> ConsentEvent:
    """Consent given through the business (form, phone, paper), entered by a person: the wording
    is the org's current consent wording and its version."""
    org = db.session.get(Org, client.org_id)
    return record_consent(client.org_id, client.phone_e164, "granted", method, client=client,
                          wording=consent_wording(org), wording_version=org.consent_wording_version,
                          user_id=user_id)


@dataclass(frozen=True)
class LedgerLine:
    at: datetime
    zone: str | None
    kind: str
    method: str
    how: str
    wording: str | None
    wording_version: int | None
    recorded_by: str | None
    message_id: int | None


def consent_ledger(client_id: int) -> list[LedgerLine]:
    """The client's ledger, oldest first (also the rows of their number from before they were a client)."""
    client = db.session.get(Client, client_id)
    hashes = [phone_hash(client.phone_e164)] if client.erased_at is None else []
    query = (select(ConsentEvent, User.name).outerjoin(User, User.id == ConsentEvent.recorded_by_user_id)
             .where(ConsentEvent.org_id == client.org_id)
             .where((ConsentEvent.client_id == client.id) | ConsentEvent.phone_hash.in_(hashes))
             .order_by(ConsentEvent.created_at, ConsentEvent.id))
    return [LedgerLine(e.created_at, e.zone, e.kind, e.method, METHOD_LABELS.get(e.method, e.method), e.wording,
                       e.wording_version, name, e.message_id) for e, name in db.session.execute(query)]


def latest_consent(org_id: int, phone_e164: str) -> ConsentEvent | None:
    """The number's last ledger row: the answer to "may we text them?" (None: never asked)."""
    return db.session.scalar(select(ConsentEvent).where(
        ConsentEvent.org_id == org_id, ConsentEvent.phone_hash == phone_hash(phone_e164))
        .order_by(ConsentEvent.created_at.desc(), ConsentEvent.id.desc()).limit(1))
