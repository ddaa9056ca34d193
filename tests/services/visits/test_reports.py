"""The visit report: texted once from the thread's number (photos as MMS), edits text nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Alert, EventLog, Message, MessageMedia, OutboxEntry
from app.models.visits import ServiceChecklist, VisitReport
from app.services.messaging.sitter_messages import PolicyBlocked
from app.services.visits.checklists import set_checklist
from app.services.visits.checks import CheckRefused, check_in
from app.services.visits.reports import submit_visit_report
from tests.support.media_stand_in import photo_bytes
from tests.support.messaging_builders import as_first_text
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York


@pytest.fixture
def visit(make, clock, media_root):
    clock.set(START + timedelta(minutes=2))
    client = make.client(name="Alex Morgan", pets=("Biscuit",))
    return make_visit(make, start=START, hours=1, client=client)


def _upload(name="a.jpg"):
    from app.services.media.outbound import Upload

    return Upload(name, photo_bytes())


def test_the_report_is_refused_before_check_in(visit):
    with pytest.raises(CheckRefused, match="Check in first"):
        submit_visit_report(visit.user.id, visit.booking.id, note="All good")
    assert db.session.scalar(select(VisitReport)) is None


def test_the_report_is_texted_once_from_the_thread_number_and_an_edit_texts_nothing(visit, clock):
    check_in(visit.user.id, visit.booking.id)
    clock.advance(minutes=40)
    first = submit_visit_report(visit.user.id, visit.booking.id, note="Biscuit ate everything.",
                                checklist=["Walk", "Fed"], photos=[_upload()])
    assert first.created and first.status == "queued"
    assert first.notice == "Report saved and queued to send to Alex."
    [message] = db.session.scalars(select(Message)).all()
    report = "Visit report: Done: Fed, Walk. Biscuit ate everything."
    assert message.body == as_first_text(report, message_org_name(message))
    assert message.from_e164 == visit.thread.message_number.e164 and message.thread_id == visit.thread.id
    assert message.sender_kind == "sitter"
    [entry] = db.session.scalars(select(OutboxEntry)).all()  # sent once, as MMS
    assert entry.from_e164 == visit.thread.message_number.e164 and len(entry.media_urls) == 1
    assert db.session.scalar(select(MessageMedia.message_id)) == message.id

    clock.advance(minutes=5)
    edit = submit_visit_report(visit.user.id, visit.booking.id, note="Biscuit ate everything, then napped.",
                               checklist=["Fed", "Walk", "Fresh water"])
    assert not edit.created and "not texted again" in edit.notice
    assert len(db.session.scalars(select(Message)).all()) == 1
    assert len(db.session.scalars(select(OutboxEntry)).all()) == 1
    report = db.session.scalar(select(VisitReport))
    assert (report.note, report.checklist, report.edits, report.message_id) == (
        "Biscuit ate everything, then napped.", ["Fed", "Fresh water", "Walk"], 1, message.id)
    kinds = db.session.scalars(select(EventLog.kind)).all()
    assert kinds.count("visit.report_sent") == 1 and kinds.count("visit.report_edited") == 1


def test_photos_cannot_be_added_by_an_edit_and_at_most_five_go_with_the_report(visit):
    check_in(visit.user.id, visit.booking.id)
    with pytest.raises(InvalidInput, match="at most 5 photos"):
        submit_visit_report(visit.user.id, visit.booking.id, note="x", photos=[_upload() for _ in range(6)])
    submit_visit_report(visit.user.id, visit.booking.id, note="All good")
    with pytest.raises(InvalidInput, match="send more photos in the conversation"):
        submit_visit_report(visit.user.id, visit.booking.id, note="All good", photos=[_upload()])


def test_the_checklist_is_the_services_own_list_set_by_owners(visit):
    set_checklist(visit.booking.org_id, visit.booking.service, "Fed\nMeds at 9\n\nPlayed fetch\nFed")
    assert db.session.scalar(select(ServiceChecklist.items)) == ["Fed", "Meds at 9", "Played fetch"]
    check_in(visit.user.id, visit.booking.id)
    with pytest.raises(InvalidInput, match="not on this service's list"):
        submit_visit_report(visit.user.id, visit.booking.id, note="", checklist=["Litter"])
    submit_visit_report(visit.user.id, visit.booking.id, note="", checklist=["Played fetch", "Fed"])
    assert "Visit report: Done: Fed, Played fetch." in db.session.scalar(select(Message.body))


def test_the_note_is_held_to_the_content_policy_like_every_sitter_text(visit):
    check_in(visit.user.id, visit.booking.id)
    with pytest.raises(PolicyBlocked, match="phone number"):
        submit_visit_report(visit.user.id, visit.booking.id, note="Call me on 202-555-0188 next time")
    assert db.session.scalar(select(Message)) is None and db.session.scalar(select(VisitReport)) is None
    alert = db.session.scalar(select(Alert).where(Alert.kind == "policy.violation"))
    assert alert.audience == "sitter" and "visit report" in alert.text and "202" not in alert.text


def test_another_sitter_cannot_report_and_the_window_end_closes_the_report(visit, make, clock):
    check_in(visit.user.id, visit.booking.id)
    from app.errors import NotFound

    with pytest.raises(NotFound):
        submit_visit_report(make.sitter().user.id, visit.booking.id, note="hi")
    clock.set(visit.window.ends_at)
    with pytest.raises(CheckRefused, match="window has ended"):
        submit_visit_report(visit.user.id, visit.booking.id, note="late report")


def test_an_opted_out_client_gets_nothing_and_the_sitter_is_told(visit):
    visit.booking.client.opted_out = True
    db.session.commit()
    check_in(visit.user.id, visit.booking.id)
    outcome = submit_visit_report(visit.user.id, visit.booking.id, note="All good")
    assert outcome.status == "blocked" and "opted out" in outcome.notice
    assert db.session.scalar(select(OutboxEntry)) is None


def message_org_name(message) -> str:
    from app.models import Org

    return db.session.get(Org, message.org_id).name


def test_only_the_stored_report_path_texts_a_visit_report():
    """One report path: nothing but app.services.visits.reports records a sent report or writes the
    report's prefix (the compose box's old unstored "Send visit report" is gone)."""
    import re
    from pathlib import Path

    # A writer records the event (the audit log's sentence for it only reads it) or writes the prefix.
    records_sent = re.compile(r'record_event\([^()]*"visit\.report_sent"')
    app_dir = Path(__file__).resolve().parents[3] / "app"
    writers = sorted(str(p.relative_to(app_dir)) for p in app_dir.rglob("*.py")
                     if records_sent.search(p.read_text()) or '"Visit report: "' in p.read_text())
    assert writers == ["services/visits/reports.py"]
    templates = [p.name for p in (app_dir / "templates").rglob("*.html") if 'name="visit_report"' in p.read_text()]
    assert templates == []
