"""Both Twilio webhooks, correctly signed (as Twilio signs), with hostile fields: no 5xx, and a 4xx
writes nothing at all (not even an audit row: a refused webhook is only logged)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ_SETTINGS, SENT_SID
from tests.fuzz.hostile import changed_tables, hostile_text, snapshot
from tests.support.twilio_stand_in import fixture_fields, post_signed

ENDPOINTS = {"inbound-sms": "/webhooks/twilio/sms", "inbound-stop": "/webhooks/twilio/sms",
             "status-callback": "/webhooks/twilio/status"}
FIELDS = ["MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "MessagingServiceSid", "From", "To", "Body",
          "NumMedia", "NumSegments", "SmsStatus", "MessageStatus", "ErrorCode", "OptOutType", "ApiVersion",
          "MediaUrl0", "MediaContentType0", "FromCountry", "Unexpected\u0000Field"]
_sid = st.builds(lambda prefix, digits: prefix + digits, st.sampled_from(["SM", "MM", "AC"]),
                 st.text("0123456789abcdef", min_size=32, max_size=32))


@pytest.mark.parametrize("fixture", sorted(ENDPOINTS))
@FUZZ_SETTINGS
@given(data=st.data())
def test_signed_twilio_webhooks_never_5xx_and_refusals_write_nothing(world_sessions, fixture, data):
    world = world_sessions
    fields = fixture_fields(fixture, **({"From": world.twilio["From"], "To": world.twilio["To"]}
                                        if fixture != "status-callback" else
                                        {"MessageSid": SENT_SID, "SmsSid": SENT_SID}))
    fields["MessageSid"] = data.draw(st.one_of(_sid, st.just(fields["MessageSid"])), label="sid")
    changes = data.draw(st.dictionaries(st.sampled_from(FIELDS), st.one_of(st.none(), hostile_text(), _sid),
                                        max_size=5), label="changes")
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    path = data.draw(st.sampled_from([ENDPOINTS[fixture], *ENDPOINTS.values()]), label="path")

    before = snapshot(world.app, skip=frozenset())
    response = post_signed(world.clients["anonymous"], path, fields)
    assert response.status_code != 403, "the stand-in signs as Twilio does"
    assert response.status_code < 500, f"{path} answered {response.status_code} to {sorted(changes)}"
    if 400 <= response.status_code < 500:
        assert changed_tables(before, snapshot(world.app, skip=frozenset())) == []
