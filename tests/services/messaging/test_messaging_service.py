"""10DLC-ready sending: with the org's Messaging Service SID, sends go through it from the thread number."""

from __future__ import annotations

from app.extensions import db
from app.services.messaging.outbound import queue_outbound_message
from app.services.orgs.settings import update_org_settings
from tests.support.messaging_builders import booking_thread

SERVICE_SID = "MG" + "a" * 32


def _send(thread):
    queue_outbound_message(org_id=thread.org_id, thread_id=thread.id, from_number_id=thread.message_number_id,
                           to_e164=thread.client.phone_e164, body="See you at 9!", sender_kind="sitter")
    db.session.commit()


def test_sends_pass_the_messaging_service_sid_and_the_thread_number_as_from(make, twilio):
    thread = booking_thread(make)
    org = thread.booking.org
    update_org_settings(org.id, name=org.name, timezone=org.timezone, grace_minutes=60, quiet_start_hour=20,
                        quiet_end_hour=8, policy_mode="block", visit_followup_enabled=True,
                        messaging_service_sid=SERVICE_SID)
    _send(thread)
    [post] = twilio.posts
    assert post["data"]["MessagingServiceSid"] == SERVICE_SID
    assert post["data"]["From"] == thread.message_number.e164


def test_without_a_service_only_from_is_sent(make, twilio):
    thread = booking_thread(make)
    _send(thread)
    [post] = twilio.posts
    assert "MessagingServiceSid" not in post["data"] and post["data"]["From"] == thread.message_number.e164


def test_the_settings_page_refuses_a_sid_that_is_not_a_messaging_service(client, login_as, make):
    owner = make.user("owner")
    login_as(owner)
    org = make.default_org
    response = client.post("/admin/settings", data={
        "name": org.name, "timezone": org.timezone, "grace_minutes": 60, "quiet_start_hour": 20,
        "quiet_end_hour": 8, "policy_mode": "block", "messaging_service_sid": "PN123"})
    assert response.status_code == 422 and "MG followed by 32" in response.get_data(as_text=True)
    response = client.post("/admin/settings", data={
        "name": org.name, "timezone": org.timezone, "grace_minutes": 60, "quiet_start_hour": 20,
        "quiet_end_hour": 8, "policy_mode": "block", "messaging_service_sid": SERVICE_SID,
        "support_contact": "help@example.test", "consent_wording": "Texts from {business}. STOP to end.",
        "retention_days": 365})
    assert response.status_code == 302
    db.session.refresh(org)
    assert (org.messaging_service_sid, org.support_contact, org.retention_days) == (
        SERVICE_SID, "help@example.test", 365)
    assert org.consent_wording_version == 2  # a new wording is a new version
