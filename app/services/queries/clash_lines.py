"""Visits that move, in words: each sitter's other visits the new times overlap and their time off.

One piece for every confirm step that moves a visit (a series edit from one occurrence on, a single
reschedule), so both warn alike. Read-only, like app.services.queries.action_previews.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.extensions import db
from app.localtime import format_datetime, format_time
from app.models import Org, Sitter
from app.services.bookings.series import Occurrence, PlannedEdit, clashes
from app.services.people.time_off import away_days, format_days


def clash_lines(org: Org, moving: Sequence[PlannedEdit], series_id: str | None = None) -> list[str]:
    """One line per clash with another of the sitter's live visits and per visit on a day they are away.

    A moving visit never clashes with itself or another moving one, nor (series_id) with its own series.
    """
    lines: list[str] = []
    by_sitter: dict[int, list[PlannedEdit]] = {}
    for edit in moving:
        if edit.sitter_id:
            by_sitter.setdefault(edit.sitter_id, []).append(edit)
    moving_ids = {e.booking_id for e in moving}
    for sitter_id, edits in by_sitter.items():
        sitter = db.session.get(Sitter, sitter_id)
        planned = [Occurrence(e.new_start_at, e.new_end_at) for e in edits]
        for clash in clashes(org.id, sitter_id, planned, ignore_series=series_id, ignore_ids=moving_ids):
            lines.append(f"{format_datetime(clash.occurrence.start_at, org.timezone)} clashes with "
                         f"{sitter.name}'s booking #{clash.booking.id} ({clash.booking.client.name}, "
                         f"{format_datetime(clash.booking.start_at, org.timezone)} – "
                         f"{format_time(clash.booking.end_at, org.timezone)}).")
        away = away_days(sitter_id, [(e.new_start_at, e.new_end_at) for e in edits], org.timezone)
        for edit, days in zip(edits, away, strict=True):
            if days:
                lines.append(f"Warning: {sitter.name} is away (time off) on {format_days(days)}: booking "
                             f"#{edit.booking_id}.")
    return lines
