"""The input findings of issue 15, each as it was reported: no 5xx, a clear 4xx, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Booking, Client, EventLog
from app.web.input_guard import DB_INT_MAX, date_out_of_bounds, safe_redirect_target
from tests.support.factories import PASSWORD
from tests.support.sitter_data import make_visit

HUGE = "9" * 20  # past PostgreSQL integer and bigint, and SQLite's 64-bit integers


@pytest.fixture
def owner(make):
    return make.user("owner")


def test_nul_in_the_login_email_is_a_400_not_a_500(client, make):
    make.user("owner", email="owner@example.test")
    response = client.post("/login", data={"email": "owner@example.test\x00", "password": PASSWORD})
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/clients?q=Al%00ex", "/admin/threads?q=%00", "/admin/bookings?status=%01"])
def test_control_characters_in_a_search_are_a_400(client, login_as, owner, path):
    login_as(owner)
    response = client.get(path)
    assert response.status_code == 400
    assert "control characters" in response.get_data(as_text=True)


def test_line_breaks_in_a_textarea_are_kept(client, login_as, owner, make):
    login_as(owner)
    response = client.post("/admin/clients/new", data={"name": "Alex Morgan", "phone": "+12025550101",
                                                       "notes": "Gate code 4411\r\n\tkey under the mat",
                                                       "consent_method": "written"})
    assert response.status_code == 302
    assert db.session.scalar(select(Client.notes)) == "Gate code 4411\r\n\tkey under the mat"


@pytest.mark.parametrize("path", [f"/admin/bookings/{HUGE}", f"/admin/bookings/{DB_INT_MAX + 1}",
                                  f"/admin/clients/{HUGE}/edit", "/admin/bookings/-1"])
def test_ids_outside_the_database_range_are_404(client, login_as, owner, path):
    login_as(owner)
    assert client.get(path).status_code == 404


def test_sitter_ids_outside_the_database_range_are_404(client, login_as, make, clock):
    visit = make_visit(make)
    login_as(visit.user)
    assert client.get(f"/sitter/threads/{HUGE}").status_code == 404
    assert client.post(f"/sitter/alerts/{HUGE}/dismiss").status_code == 404
    assert client.get(f"/sitter/threads/{visit.thread.id}").status_code == 200


def test_a_huge_booking_id_in_the_audit_filter_is_a_field_error(client, login_as, owner, make):
    make.event("booking.confirmed", booking_id=None)
    login_as(owner)
    response = client.get(f"/admin/audit?booking_id={HUGE}")
    assert response.status_code == 200
    assert "No booking has that number." in response.get_data(as_text=True)


def test_a_huge_page_number_is_the_last_page_not_a_500(client, login_as, owner):
    login_as(owner)
    assert client.get(f"/admin/bookings?page={HUGE}").status_code == 200


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "10000-01-01"])
def test_dates_outside_the_calendar_bounds_are_a_400(client, login_as, owner, value):
    login_as(owner)
    for path in (f"/admin/bookings?date_from={value}", f"/admin/audit?date_to={value}"):
        response = client.get(path)
        assert response.status_code == 400
        assert "between the years 1900 and 2199" in response.get_data(as_text=True)


def test_a_booking_far_in_the_future_is_refused_with_nothing_written(client, login_as, owner, make):
    customer = make.client()
    login_as(owner)
    response = client.post("/admin/bookings/new", data={
        "client_id": customer.id, "sitter_id": 0, "service": "Walk", "start_at": "9999-12-31T23:00",
        "end_at": "9999-12-31T23:59", "price": "10"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Booking.id))) == 0


@pytest.mark.parametrize("price", ["sNaN", "NaN", "Infinity", "1e400"])
def test_a_price_that_is_not_a_finite_amount_is_a_field_error(client, login_as, owner, make, price):
    customer = make.client()
    login_as(owner)
    response = client.post("/admin/bookings/new", data={
        "client_id": customer.id, "sitter_id": 0, "service": "Walk", "start_at": "2026-12-01T10:00",
        "end_at": "2026-12-01T11:00", "price": price})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Booking.id))) == 0


def test_crlf_in_next_after_a_successful_login_goes_home(client, make):
    make.user("owner", email="owner@example.test")
    response = client.post("/login?next=/admin%0d%0aSet-Cookie:%20evil=1",
                           data={"email": "owner@example.test", "password": PASSWORD})
    assert response.status_code == 400  # the query string itself is refused
    response = client.post("/login", query_string={"next": "/admin/bookings"},
                           data={"email": "owner@example.test", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/bookings")


@pytest.mark.parametrize("target", ["/admin\r\nSet-Cookie: x=1", "//evil.example", "/\\evil.example",
                                    "https://evil.example/", "admin", "", None])
def test_only_same_site_paths_are_redirect_targets(target):
    assert safe_redirect_target(target) is None


def test_a_plain_path_is_a_redirect_target():
    assert safe_redirect_target("/sitter/threads/4?x=1") == "/sitter/threads/4?x=1"


@pytest.mark.parametrize(("value", "refused"), [("2026-11-25", False), ("1900-01-01", False), ("2199-12-31", False),
                                                ("9999-12-31", True), ("0001-01-01", True), ("2026-11-25T10:00", False),
                                                ("99999-01-01T10:00", True), ("Nov 25 9999", False)])
def test_date_bounds(value, refused):
    assert date_out_of_bounds(value) is refused


def test_a_refused_request_writes_nothing(client, login_as, owner):
    login_as(owner)
    before = db.session.scalar(select(func.count(EventLog.id)))
    response = client.post("/admin/clients/new", data={"name": "Alex\x00", "phone": "+12025550101"})
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count(Client.id))) == 0
    assert db.session.scalar(select(func.count(EventLog.id))) == before


@pytest.mark.parametrize("body", ['{"name": 5, "phone": {"a": 1}}', '{"name": null, "phone": 1}',
                                  '{"name": "Alex", "phone": "+12025550101", "pets": 5}', "[" * 50_000 + "]" * 50_000,
                                  '["name"]', '{"name": "Al\\u0000ex", "phone": "+12025550101"}', "{"])
def test_a_json_body_that_is_not_shaped_like_a_form_is_a_400(client, login_as, owner, body):
    login_as(owner)
    response = client.post("/admin/clients/new", data=body, content_type="application/json")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Client.id))) == 0


def test_a_form_shaped_json_body_still_works(client, login_as, owner):
    login_as(owner)
    response = client.post("/admin/clients/new", json={"name": "Alex Morgan", "phone": "+12025550101",
                                                       "consent_method": "verbal"})
    assert response.status_code == 302


def test_a_view_that_takes_structured_json_gets_it_up_to_a_depth(app):
    from app.web.input_guard import MAX_JSON_DEPTH, json_body_problem

    nested = '{"endpoint": "https://push.example/1", "keys": {"p256dh": "k", "auth": "a"}}'
    assert json_body_problem(nested.encode(), structured=True) is None
    assert json_body_problem(nested.encode()) is not None
    too_deep = '{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    assert "nested more than" in json_body_problem(too_deep.encode(), structured=True)


def test_an_over_long_search_is_a_400(client, login_as, owner):
    login_as(owner)
    response = client.get("/admin/clients", query_string={"q": "a" * 5000})
    assert response.status_code == 400 and "too long" in response.get_data(as_text=True)
