"""Signed webhooks skip the per-request work of people's pages (issue 28), and keep what matters:
signature checks, the input guard, request ids in the answer and the log, webhook metrics."""

from __future__ import annotations

from sqlalchemy import event, func, select

from app.extensions import db
from app.models import LoginSession, StripeEvent
from app.observability.metrics import REGISTRY
from app.web.lean_requests import LEAN_ENDPOINTS, WEBHOOK_HEADERS
from tests.support import stripe_payloads as sp
from tests.support.twilio_stand_in import fixture_fields, twilio_signature
from tests.web.test_request_ids import json_lines  # noqa: F401 - the JSON log fixture


def _webhook_count(route: str, status: int) -> float:
    labels = {"route": route, "status": str(status)}
    return REGISTRY.get_sample_value("pawline_webhook_requests_total", labels) or 0.0


def _statements(fn) -> list[str]:
    seen = []

    def listener(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's own transaction start (IMMEDIATE or DEFERRED)
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return result, seen


def test_every_signed_webhook_route_is_lean_and_every_lean_endpoint_exists(app):
    webhook_posts = {rule.endpoint for rule in app.url_map.iter_rules()
                     if rule.endpoint.startswith("webhooks.") and "POST" in rule.methods}
    assert webhook_posts == LEAN_ENDPOINTS
    assert "webhooks.stripe_checkout_return" not in LEAN_ENDPOINTS  # a page a person's browser opens


def test_a_stripe_delivery_reads_no_session_and_writes_only_its_event(redis_app, clock):
    """On RQ, as in production (the in-process queue would apply the event inline)."""
    from tests.support.factories import Factories
    from tests.support.login import log_in

    make = Factories(db.session, clock)
    booking = make.booking()
    db.session.commit()
    client = redis_app.test_client()
    log_in(client, make.user(role="owner"))  # a session cookie a webhook must not even look at
    evt = sp.event("checkout.session.completed", sp.checkout_session(booking))
    before = _webhook_count("/webhooks/stripe", 200)
    body, headers = sp.signed(evt)
    response, seen = _statements(lambda: client.post("/webhooks/stripe", data=body,
                                                     headers={**headers, "X-Request-ID": "lb-lean-0001"}))
    assert response.status_code == 200
    assert [s.split()[0] for s in seen] == ["INSERT"]  # the event; no login session, no user, no org
    assert "login_sessions" not in " ".join(seen)
    assert response.headers["X-Request-ID"] == "lb-lean-0001"
    assert _webhook_count("/webhooks/stripe", 200) == before + 1
    for name, value in WEBHOOK_HEADERS.items():
        assert response.headers[name] == value
    assert "Set-Cookie" not in response.headers
    assert sp.stored(evt).status == "received"  # committed on its own connection: a fresh read


def test_a_page_still_pays_for_its_login_and_gets_the_full_policy(client, make, login_as):
    login_as(make.user(role="owner"))
    (response, seen) = _statements(lambda: client.get("/admin/bookings"))
    assert response.status_code in (200, 302)
    assert any("login_sessions" in s for s in seen)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_webhooks_still_refuse_what_is_not_signed_with_ids_and_metrics(client, json_lines):  # noqa: F811
    evt = sp.event("checkout.session.completed", {"object": "checkout.session", "metadata": {}})
    body, headers = sp.signed(evt, secret="whsec_wrong")
    before = _webhook_count("/webhooks/stripe", 400)
    refused = client.post("/webhooks/stripe", data=body, headers={**headers, "X-Request-ID": "lb-lean-0002"})
    assert refused.status_code == 400 and refused.headers["X-Request-ID"] == "lb-lean-0002"
    assert _webhook_count("/webhooks/stripe", 400) == before + 1
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0

    before = _webhook_count("/webhooks/twilio/sms", 403)
    unsigned = client.post("/webhooks/twilio/sms", data=fixture_fields("inbound-sms"),
                           headers={"X-Request-ID": "lb-lean-0003"})
    assert unsigned.status_code == 403 and unsigned.headers["X-Request-ID"] == "lb-lean-0003"
    assert _webhook_count("/webhooks/twilio/sms", 403) == before + 1
    lines = [line for line in json_lines() if line["logger"] == "app.blueprints.webhooks.twilio"]
    assert lines and all(line["request_id"] == "lb-lean-0003" for line in lines)


def test_the_input_guard_still_runs_for_webhooks(client):
    fields = fixture_fields("inbound-sms")
    path = "/webhooks/twilio/sms?x=%01"
    signature = twilio_signature("https://pawline.test" + path, fields, "twilio-test-token")
    refused = client.post(path, data=fields, headers={"X-Twilio-Signature": signature})
    assert refused.status_code == 400
    assert "control characters" in refused.get_json()["error"]


def test_a_webhook_inside_an_outer_scope_is_not_scoped_to_it(app, client, make):
    """Scoping still resets for webhooks (a test or CLI context may hold an org scope)."""
    from app.web.scoping import current_org_id, scope_to_org

    scope_to_org(make.default_org.id)
    seen = []
    app.view_functions["webhooks.stripe_webhook"], original = (
        lambda: seen.append(current_org_id()) or ("", 204), app.view_functions["webhooks.stripe_webhook"])
    try:
        answer = client.post("/webhooks/stripe", data=b"{}", headers={"Content-Type": "application/json"})
        assert answer.status_code == 204
    finally:
        app.view_functions["webhooks.stripe_webhook"] = original
    assert seen == [None]
    assert db.session.scalar(select(func.count()).select_from(LoginSession)) == 0
