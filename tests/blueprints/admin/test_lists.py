"""Audit-log filters, paging, and the people pages' edits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.models import Sitter
from app.services.queries import admin as admin_queries


def rows(client, url: str) -> str:
    return client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_audit_log_filters_by_kind_booking_sitter_and_date(client, login_as, make, clock):
    login_as(make.user("owner"))
    sitter = make.sitter()
    booking = make.booking(sitter=sitter)
    make.event("booking.created", booking_id=booking.id, sitter_id=sitter.id, payload={"n": "one"})
    make.event("number.added", payload={"n": "two"})
    make.event("booking.cancelled", created_at=clock.now - timedelta(days=3), payload={"n": "three"})
    assert "<dd>one</dd>" in rows(client, "/admin/audit?kind=booking.created")
    assert "<dd>two</dd>" not in rows(client, "/admin/audit?kind=booking")
    only_booking = rows(client, f"/admin/audit?booking_id={booking.id}")
    assert "<dd>one</dd>" in only_booking and "<dd>two</dd>" not in only_booking
    only_sitter = rows(client, f"/admin/audit?sitter_id={sitter.id}")
    assert "<dd>one</dd>" in only_sitter and "<dd>three</dd>" not in only_sitter
    day = (clock.now - timedelta(days=3)).date().isoformat()
    by_day = rows(client, f"/admin/audit?date_from={day}&date_to={day}")
    assert "<dd>three</dd>" in by_day and "<dd>one</dd>" not in by_day


def test_lists_are_paged(client, login_as, make, monkeypatch):
    monkeypatch.setattr(admin_queries, "PER_PAGE", 2)
    login_as(make.user("owner"))
    for name in ("Ann A", "Ben B", "Cat C"):
        make.client(name=name, pets=())
    first, second = rows(client, "/admin/clients"), rows(client, "/admin/clients?page=2")
    assert "Ann A" in first and "Ben B" in first and "Cat C" not in first
    assert "Page 1 of 2" in first and "page=2" in first
    assert "Cat C" in second and "Ann A" not in second
    assert "Cat C" in rows(client, "/admin/clients?page=99")  # past the end: the last page


def test_client_edit_saves_e164_and_sitter_can_be_deactivated(client, login_as, make, db):
    login_as(make.user("owner"))
    existing = make.client(name="Jamie")
    assert client.post(f"/admin/clients/{existing.id}/edit",
                       data={"name": "Jamie Chen", "phone": "+1 (202) 555-0161", "address": "1 Main St"}
                       ).status_code == 302
    db.session.expire_all()
    assert (existing.name, existing.phone_e164, existing.address) == ("Jamie Chen", "+12025550161", "1 Main St")
    sitter = make.sitter(name="Riley Paws")
    assert client.post(f"/admin/sitters/{sitter.id}", data={"name": "Riley Paws", "phone": ""}).status_code == 302
    db.session.expire_all()
    sitter = db.session.scalar(select(Sitter).where(Sitter.id == sitter.id))
    assert not sitter.active and not sitter.user.active  # the login stops working too
    page = client.get("/admin/bookings/new").get_data(as_text=True)
    assert "Riley Paws" not in page  # inactive sitters are not offered


def test_staff_do_not_see_or_resolve_alerts(client, login_as, org_rows, db):
    login_as(org_rows.staff)
    assert "Booking has no number" not in client.get("/admin").get_data(as_text=True)
    assert client.post(f"/admin/alerts/{org_rows.alert.id}/resolve").status_code == 404
    db.session.expire_all()
    assert org_rows.alert.resolved_at is None
