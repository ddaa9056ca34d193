"""Queue health: the org's waiting and failed work from the database, with retry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import EventLog, Message, OutboxEntry
from tests.support.messaging_builders import booking_thread, outbound_message


def test_owner_sees_counts_oldest_ages_and_problem_texts(client, login_as, make, clock):
    thread = booking_thread(make)
    created = clock.now
    outbound_message(make, thread, status="queued", created_at=created - timedelta(minutes=7))
    outbound_message(make, thread, status="failed", error_code="21211",
                     error_message="The client's number cannot receive texts (Twilio 21211).")
    outbound_message(make, thread, status="unknown", error_code="interrupted")
    outbound_message(make, thread, status="delivered")
    other_org = make.org(name="Elsewhere")
    make.message(org=other_org, direction="outbound", sender_kind="owner", status="failed")
    login_as(make.user("owner"))
    html = client.get("/admin/queue").get_data(as_text=True)
    assert '<tr id="queue-queued" class="problem">' in html and "7 min" in html
    assert 'id="queue-failed" class="problem"' in html and "Twilio 21211" in html
    assert html.count('id="queue-message-') == 2  # the failed and the unconfirmed one, this org only
    assert 'href="/admin/queue"' in html  # in the admin nav


def test_htmx_refresh_gets_the_fragment(client, login_as, make):
    login_as(make.user("staff"))
    response = client.get("/admin/queue", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_retry_sends_a_failed_text_again_and_audits_it(client, login_as, make):
    thread = booking_thread(make)
    failed = outbound_message(make, thread, status="failed", error_code="30003", provider_sid="SMold")
    login_as(make.user("staff"))
    assert client.post(f"/admin/queue/messages/{failed.id}/retry").status_code == 302
    db.session.expire_all()
    message = db.session.get(Message, failed.id)
    assert message.status == "sent" and message.error_code is None  # the inline queue sent it
    assert db.session.scalar(select(OutboxEntry.message_id)) == failed.id
    assert db.session.scalar(select(EventLog.kind).where(EventLog.kind == "message.retried"))
    # A sent text cannot be "retried" into a second copy.
    client.post(f"/admin/queue/messages/{failed.id}/retry")
    assert len(db.session.scalars(select(OutboxEntry)).all()) == 1


def test_sitters_and_other_orgs_get_404(client, login_as, make):
    thread = booking_thread(make)
    failed = outbound_message(make, thread, status="failed")
    sitter = make.sitter()
    login_as(sitter.user)
    assert client.get("/admin/queue").status_code == 404
    other_owner = make.user("owner", org=make.org(name="Elsewhere"))
    login_as(other_owner)
    assert client.post(f"/admin/queue/messages/{failed.id}/retry").status_code == 404
    db.session.expire_all()
    assert db.session.get(Message, failed.id).status == "failed"


def test_a_failed_run_is_retried_from_the_queue_page_and_comes_back_to_it(client, login_as, make, clock):
    thread = booking_thread(make)
    run = make.automation_run(thread.booking, status="failed", reason="template could not render")
    login_as(make.user("owner"))
    html = client.get("/admin/queue").get_data(as_text=True)
    assert f'id="queue-run-{run.id}"' in html and "template could not render" in html
    step = client.post(f"/admin/automations/runs/{run.id}/retry", data={"back": "queue"}).get_data(as_text=True)
    assert 'name="back" value="queue"' in step  # the confirm step carries it to the yes
    response = client.post(f"/admin/automations/runs/{run.id}/retry", data={"back": "queue", "confirmed": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/queue"
    db.session.expire_all()
    assert db.session.get(type(run), run.id).status != "failed"
