"""The client's address as a point on the map, entered by the office ("38.9097, -77.0434", as a map
app copies it): what a sitter's check-in distance is measured from."""

from __future__ import annotations

import math
import re

from sqlalchemy import select

from app.clock import utcnow
from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Client
from app.models.visits import ClientAddressPoint
from app.services.audit.events import record_event

_PAIR = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


def address_point(client_id: int) -> ClientAddressPoint | None:
    return db.session.scalar(select(ClientAddressPoint).where(ClientAddressPoint.client_id == client_id))


def parse_point(text: str) -> tuple[float, float]:
    match = _PAIR.match(text or "")
    lat, lng = (float(match.group(1)), float(match.group(2))) if match else (math.nan, math.nan)
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("Enter the location as latitude, longitude (e.g. 38.9097, -77.0434).", field="location")
    return lat, lng


def set_address_point(org_id: int, client_id: int, text: str, actor: str = "system") -> bool:
    """Save (True) or, given an empty text, remove (False) the client's address point."""
    client = db.session.get(Client, client_id)
    if client is None or client.org_id != org_id:
        raise NotFound("Client not found")
    row = address_point(client_id)
    if not (text or "").strip():
        if row is not None:
            db.session.delete(row)
            record_event(org_id, "client.address_point_removed", actor=actor, client_id=client_id)
        db.session.commit()
        return False
    lat, lng = parse_point(text)
    if row is None:
        row = ClientAddressPoint(org_id=org_id, client_id=client_id, latitude=lat, longitude=lng,
                                 created_at=utcnow())
        db.session.add(row)
    else:
        row.latitude, row.longitude = lat, lng
    record_event(org_id, "client.address_point_set", actor=actor, client_id=client_id)
    db.session.commit()
    return True
