"""The visit events read as sentences in the audit log and the booking's history: check-in and out
(a distance, never coordinates), late and cleared, the report sent, edited and replied to, a
concern, and "don't send this sitter again"."""

from __future__ import annotations

import ast
import html
import pathlib
import re
from datetime import UTC, datetime, timedelta

from app.services.audit.sentences import SENTENCES
from app.services.bookings.lifecycle import cancel_booking
from app.services.visits.alerts import scan_late_visits
from app.services.visits.checks import Position, check_in, check_out
from app.services.visits.locations import set_address_point
from app.services.visits.reports import submit_visit_report
from tests.support.factories import CONFIRMED
from tests.support.sitter_data import make_visit
from tests.support.twilio_stand_in import fixture_fields, post_signed

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # 9:00 AM New York
CLIENT_PHONE = "+12025550101"
HOUSE = (38.8977, -77.0365)


def _page(client, url: str) -> str:
    return " ".join(html.unescape(client.get(url).get_data(as_text=True)).split())


def test_a_visit_from_check_in_to_a_worried_reply_reads_as_sentences(client, login_as, make, clock):
    owner = make.user("owner", name="Olivia Owner")
    sasha = make.sitter(name="Sasha Lee")
    alex = make.client(name="Alex Morgan", pets=("Biscuit",), phone_e164=CLIENT_PHONE)
    clock.set(START - timedelta(minutes=5))
    visit = make_visit(make, sitter=sasha, client=alex, start=START)
    set_address_point(owner.org_id, alex.id, f"{HOUSE[0]}, {HOUSE[1]}", actor=f"user:{owner.id}")
    check_in(sasha.user_id, visit.booking.id, Position(HOUSE[0] + 0.0003, HOUSE[1]))  # about 33 m away
    clock.advance(minutes=40)
    submit_visit_report(sasha.user_id, visit.booking.id, note="Biscuit ate everything.", checklist=["Fed"])
    response = post_signed(client, "/webhooks/twilio/sms", fixture_fields(
        "inbound-sms", From=CLIENT_PHONE, To=visit.thread.message_number.e164, Body="Why is he limping?",
        MessageSid="SM" + "7" * 32, SmsSid=None, SmsMessageSid=None))
    assert response.status_code == 200
    submit_visit_report(sasha.user_id, visit.booking.id, note="Biscuit ate everything, then napped.",
                        checklist=["Fed"])
    check_out(sasha.user_id, visit.booking.id)

    login_as(owner)
    b = visit.booking.id
    for url in ("/admin/audit", f"/admin/bookings/{b}"):
        page = _page(client, url)
        assert f"Sasha Lee checked in to booking #{b} (33 m from the client's address)." in page, url
        assert f"Sasha (sitter) sent the visit report of booking #{b} to Alex Morgan." in page, url
        assert f"Alex Morgan replied to the visit report of booking #{b} (sounds like a concern: limping)." \
            in page, url
        assert f"Alex Morgan's reply to the visit report of booking #{b} sounds like a concern (limping): " \
               "owners alerted." in page, url
        assert f"Sasha (sitter) edited the visit report of booking #{b} (not texted again)." in page, url
        assert f"Sasha Lee checked out of booking #{b}." in page, url
        assert str(HOUSE[0]) not in page and ": visit " not in page  # no coordinates, no generic wording
    assert "Olivia Owner set the map point of Alex Morgan's address." in _page(client, "/admin/audit")


def test_late_cancelled_and_excluded_visits_read_as_sentences(client, login_as, make, clock):
    owner = make.user("owner", name="Olivia Owner")
    sasha = make.sitter(name="Sasha Lee")
    alex = make.client(name="Alex Morgan")
    clock.set(START - timedelta(hours=1))
    late = make_visit(make, sitter=sasha, client=alex, start=START)
    later = make.booking(client=alex, sitter=sasha, start=START + timedelta(days=2))
    devon = make.sitter(name="Devon Walker")
    unfinished = make_visit(make, sitter=devon, client=make.client(name="Gina Hart"), start=START)
    clock.set(START + timedelta(minutes=1))
    check_in(devon.user_id, unfinished.booking.id)
    clock.set(START + timedelta(minutes=15))
    scan_late_visits()
    cancel_booking(late.booking.id, "client called", actor=f"user:{owner.id}")
    login_as(owner)
    done = client.post(f"/admin/clients/{alex.id}/exclusions",
                       data={"sitter_id": sasha.id, "reason": "rude", **CONFIRMED})
    assert done.status_code == 302
    client.post("/admin/visits/checklists", data={"service": "Dog walk", "items": "Walk\nWater bowl"})
    clock.set(START + timedelta(hours=2))  # an hour after the 9:00 visit's end, not checked out
    scan_late_visits()

    page = _page(client, "/admin/audit")
    b = late.booking.id
    assert f"The visit of booking #{b} was not checked in on time by Sasha Lee (owners alerted)." in page
    assert f"The late alert of booking #{b} was cleared: the visit was cancelled." in page
    assert "Olivia Owner marked Sasha Lee not to be sent to Alex Morgan again (rude)." in page
    assert f"Sasha Lee may not be sent to Alex Morgan again but still had 1 upcoming booking with them " \
           f"(#{later.id}): each needs a new sitter (owners alerted)." in page
    assert f"The visit of booking #{unfinished.booking.id} was not checked out an hour after its end " \
           "(owners alerted)." in page
    assert "Olivia Owner set the visit checklist for Dog walk: Walk, Water bowl." in page
    assert ": visit " not in page and ": client sitter " not in page


WRITERS = ("record_event", "_text_client", "_raise")  # the visit services' calls that name an event kind


def _recorded_kinds(folder: pathlib.Path) -> set[str]:
    """Every event kind the visit services record, read from their source (constants resolved)."""
    kinds = set()
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        constants = {node.targets[0].id: node.value.value for node in tree.body
                     if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                     and isinstance(node.targets[0], ast.Name) and isinstance(node.value.value, str)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in WRITERS:
                for arg in node.args[1:3]:
                    value = arg.value if isinstance(arg, ast.Constant) else constants.get(getattr(arg, "id", ""))
                    if isinstance(value, str) and re.fullmatch(r"[a-z_]+\.[a-z_]+", value):
                        kinds.add(value)
    return kinds


def test_every_event_kind_the_visit_services_record_has_a_sentence():
    kinds = _recorded_kinds(pathlib.Path(__file__).parents[3] / "app" / "services" / "visits")
    # The reader finds literals, constants and the kinds of the texts and alerts.
    assert {"visit.checked_in", "visit.report_concern", "visit.needs_new_sitter", "client.sitter_excluded",
            "visit.arrival_texted", "visit.late", "visit.unfinished"} <= kinds
    assert sorted(kinds - SENTENCES.keys()) == []
