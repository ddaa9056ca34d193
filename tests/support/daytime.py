"""For tests whose queue reads the wall clock (RQ's scheduler, `python worker.py`): a zone where it
is about noon now, so automated texts may reach a client there at once (the law's quiet hours,
8 a.m. to 9 p.m. their time, always hold; nothing in the app bypasses them)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from app.localtime import zone_where_it_is
from app.models import Client


def daytime_zone(now: datetime) -> str:
    """An Etc/GMT zone where `now` is between 12:00 and 13:00."""
    return zone_where_it_is(12, now.astimezone(UTC).hour)


def live_in_daytime(make, now: datetime) -> str:
    """Put the default org and its clients, those made so far and those `make` makes from now on,
    where it is day (an owner's own setting for each client: their time zone), so what the org
    plans and what its workers judge falls in the law's hours. Returns the zone; commits."""
    zone = daytime_zone(now)
    org = make.default_org
    org.timezone = zone
    make.client_defaults["timezone"] = zone
    make.session.execute(update(Client).where(Client.org_id == org.id).values(timezone=zone))
    make.session.commit()
    return zone
