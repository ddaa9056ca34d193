"""What an automation run's job reads in its one statement (app.services.automations.run_job) and
hands to the sending step (app.services.automations.send): its own module, so both can name it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Place:
    """What quiet hours are judged by (app.services.automations.runs.client_quiet, in_quiet_hours)."""

    timezone: str | None
    phone_e164: str | None = None
    quiet_start_hour: int = 0
    quiet_end_hour: int = 0


@dataclass(frozen=True)
class RunFacts:
    """A locked, open run and everything deciding and sending it needs, read in one statement."""

    run_id: int
    status: str
    kind: str
    scheduled_for: datetime
    org_id: int
    booking_id: int
    booking_status: str
    start_at: datetime
    opted_out: bool
    client: Place
    org: Place
    cap_reached_at: datetime | None
    body: str
    enabled: bool
    context: dict[str, str]
    thread_id: int | None
    thread_number_id: int | None
    from_e164: str | None
    to_e164: str
    business_name: str
    texted_before: bool
