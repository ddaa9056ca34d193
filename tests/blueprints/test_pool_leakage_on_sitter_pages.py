"""End to end: texts that routing keeps from sitters never show on any sitter page.

Signed inbound webhooks go through the real routing; then every page and
partial of every sitter of the org is read. A positive control proves the
pages do show what is meant for that sitter.
"""

from __future__ import annotations

from datetime import timedelta

from tests.support.sitter_data import make_visit
from tests.support.twilio_stand_in import fixture_fields, post_signed

SMS = "/webhooks/twilio/sms"
HX = {"HX-Request": "true"}


def _sitter_pages(client, login_as, visit) -> str:
    login_as(visit.user)
    tid = visit.thread.id
    html = []
    for url in ("/sitter", "/sitter/active", "/sitter/alerts", f"/sitter/threads/{tid}",
                f"/sitter/threads/{tid}/messages"):
        for headers in ({}, HX):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            html.append(response.get_data(as_text=True))
    return "\n".join(html)


def test_unknown_sender_and_other_client_on_a_pool_number_reach_no_sitter(client, login_as, make, clock):
    start = clock.now - timedelta(minutes=30)
    on_pool = make_visit(make, start=start, hours=2)  # sitter 1's open window on pool number P
    elsewhere = make_visit(make, start=start, hours=2)  # sitter 2, another client, another number
    pool_number = on_pool.thread.message_number.e164

    def text_pool(sender: str, body: str, sid: str) -> None:
        fields = fixture_fields("inbound-sms", From=sender, To=pool_number, Body=body, MessageSid=sid,
                                SmsSid=sid, SmsMessageSid=sid)
        assert post_signed(client, SMS, fields).status_code == 200

    text_pool("+12025550177", "LEAK unknown sender", "SM" + "1" * 32)
    text_pool(elsewhere.booking.client.phone_e164, "LEAK other client", "SM" + "2" * 32)
    text_pool(on_pool.booking.client.phone_e164, "MEANT for sitter one", "SM" + "3" * 32)

    first = _sitter_pages(client, login_as, on_pool)
    second = _sitter_pages(client, login_as, elsewhere)
    assert "LEAK" not in first and "LEAK" not in second
    assert "MEANT for sitter one" in first  # the pages do show a routed text …
    assert "MEANT for sitter one" not in second  # … to its own sitter only
