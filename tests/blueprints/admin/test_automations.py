"""Automation templates (validated, previewed live), on/off per kind, retrying failed runs."""

from __future__ import annotations

from sqlalchemy import select

from app.models import AutomationRun, AutomationTemplate
from tests.support.factories import CONFIRMED


def test_template_with_an_unknown_variable_is_refused_at_the_field(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    response = client.post("/admin/automations/template?kind=booking_confirmation",
                           data={"kind": "booking_confirmation", "body": "Hi {{ clinet_name }}!",
                                 "booking_id": org_rows.booking.id})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'data-field="body">Unknown variable: clinet_name' in page
    assert db.session.scalar(select(AutomationTemplate)) is None


def test_template_with_a_syntax_error_is_refused_at_the_field(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    response = client.post("/admin/automations/template?kind=night_before_reminder",
                           data={"kind": "night_before_reminder", "body": "Hi {{ client_first_name ",
                                 "booking_id": org_rows.booking.id})
    assert response.status_code == 422
    assert 'data-field="body">Syntax error on line 1' in response.get_data(as_text=True)
    assert db.session.scalar(select(AutomationTemplate)) is None


def test_template_is_saved_and_previewed_against_a_real_booking(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    body = "Hello {{ client_first_name }}, see you {{ start_date }}! - {{ business_name }}"
    response = client.post("/admin/automations/preview?kind=booking_confirmation",
                           data={"kind": "booking_confirmation", "body": body, "booking_id": org_rows.booking.id},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Hello Alex, see you" in response.get_data(as_text=True)
    assert "- Happy Tails" in response.get_data(as_text=True)
    bad = client.post("/admin/automations/preview?kind=booking_confirmation",
                      data={"kind": "booking_confirmation", "body": "{{ nope }}", "booking_id": org_rows.booking.id},
                      headers={"HX-Request": "true"})
    assert "Unknown variable: nope" in bad.get_data(as_text=True)
    assert client.post("/admin/automations/template?kind=booking_confirmation",
                       data={"kind": "booking_confirmation", "body": body,
                             "booking_id": org_rows.booking.id}).status_code == 302
    saved = db.session.scalar(select(AutomationTemplate))
    assert (saved.kind, saved.body, saved.enabled) == ("booking_confirmation", body, True)
    page = client.get("/admin/automations/template?kind=booking_confirmation").get_data(as_text=True)
    assert "Hello Alex, see you" in page  # the full page previews the saved text too


def test_preview_of_another_orgs_booking_shows_nothing_of_it(client, login_as, org_rows, make):
    login_as(org_rows.owner)
    other = make.booking(org=make.org(name="Else"), client=make.client(org=make.org(name="Else2"), name="Secret Name"))
    response = client.post("/admin/automations/preview?kind=booking_confirmation",
                           data={"kind": "booking_confirmation", "body": "{{ client_first_name }}",
                                 "booking_id": other.id}, headers={"HX-Request": "true"})
    assert "Secret" not in response.get_data(as_text=True)


def test_unknown_kind_is_404(client, login_as, org_rows):
    login_as(org_rows.owner)
    assert client.get("/admin/automations/template?kind=birthday").status_code == 404


def test_a_kind_can_be_switched_off_and_on(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    client.post("/admin/automations/enabled", data={"kind": "visit_followup", "enabled": "0", **CONFIRMED})
    row = db.session.scalar(select(AutomationTemplate).where(AutomationTemplate.kind == "visit_followup"))
    assert row.enabled is False and "Thanks for choosing" in row.body  # the default text is kept
    body = "Thanks {{ client_first_name }}!"
    client.post("/admin/automations/template?kind=visit_followup", data={"kind": "visit_followup", "body": body})
    db.session.expire_all()
    assert (row.body, row.enabled) == (body, False)  # saving the text does not switch it back on
    client.post("/admin/automations/enabled", data={"kind": "visit_followup", "enabled": "1", **CONFIRMED})
    db.session.expire_all()
    assert (row.body, row.enabled) == (body, True)


def test_a_failed_run_is_retried_and_sends(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    page = client.get("/admin/automations").get_data(as_text=True)
    assert "provider said no" in page
    assert client.post(f"/admin/automations/runs/{org_rows.run.id}/retry", data=CONFIRMED).status_code == 302
    db.session.rollback()
    run = db.session.get(AutomationRun, org_rows.run.id)
    assert run.status == "sent"  # the embedded queue ran it at once (10:00 local, not quiet hours)
    assert run.message_id is not None
    again = client.post(f"/admin/automations/runs/{org_rows.run.id}/retry", data=CONFIRMED, follow_redirects=True)
    assert "Only failed runs can be retried" in again.get_data(as_text=True)


def test_reset_brings_back_the_default_text(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    client.post("/admin/automations/template?kind=sitter_changed",
                data={"kind": "sitter_changed", "body": "New sitter: {{ sitter_first_name }}"})
    assert client.post("/admin/automations/reset?kind=sitter_changed", data=CONFIRMED).status_code == 302
    page = client.get("/admin/automations/template?kind=sitter_changed").get_data(as_text=True)
    assert "will now look after" in page and "New sitter:" not in page


def test_template_with_an_include_is_refused_at_the_field_and_its_preview_too(client, login_as, org_rows, db):
    login_as(org_rows.owner)
    data = {"kind": "booking_confirmation", "body": 'Hi {% include "base.html" %}', "booking_id": org_rows.booking.id}
    response = client.post("/admin/automations/template?kind=booking_confirmation", data=data)
    assert response.status_code == 422
    assert 'data-field="body">Not allowed in a text template: {% include %}.' in response.get_data(as_text=True)
    assert db.session.scalar(select(AutomationTemplate)) is None
    loops = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"
    preview = client.post("/admin/automations/preview?kind=booking_confirmation",
                          data={**data, "body": loops}, headers={"HX-Request": "true"})
    assert preview.status_code == 200
    assert "Not allowed in a text template: loops" in preview.get_data(as_text=True)
