"""Content policy: contact details and payment handles in sitter texts."""

from __future__ import annotations

import pytest

from app.services.messaging.content_policy import check_sitter_message, find_violations


@pytest.mark.parametrize(
    "body,kinds",
    [
        ("Call me at (202) 555-0101", ("phone_number",)),
        ("my cell is 202.555.0101", ("phone_number",)),
        ("text +1 202 555 0101 instead", ("phone_number",)),
        ("email me at jo.sitter@example.com", ("email",)),
        ("jo (at) gmail (dot) com", ("email",)),
        ("just venmo me @jo-sits", ("payment_handle",)),
        ("Cash App works, $JoSits", ("payment_handle",)),
        ("send it to $josits", ("payment_handle",)),
        ("Zelle is fine", ("payment_handle",)),
        ("paypal.me/josits", ("payment_handle",)),
        ("PayPal me", ("payment_handle",)),
        ("ring 2025550101 or jo@x.io", ("phone_number", "email")),
    ],
)
def test_finds_contact_details_and_payment_handles(body, kinds):
    assert find_violations(body)[0] == kinds


@pytest.mark.parametrize(
    "body",
    [
        "Biscuit ate all his food and we walked 2 miles!",
        "I'll be there at 9:30 tomorrow, see you 11/26",
        "The visit is $25 as booked, paid in the app",
        "Gate code 4821 worked fine",
        "Back at 10:15, all good",
    ],
)
def test_ordinary_visit_updates_pass(body):
    assert find_violations(body) == ((), ())


def test_the_org_setting_decides_block_or_flag(make):
    blocking, flagging = make.org(policy_mode="block"), make.org(policy_mode="flag")
    body = "venmo me @jo or call 202-555-0101"
    blocked = check_sitter_message(blocking, body)
    assert blocked.blocked and not blocked.flagged
    flagged = check_sitter_message(flagging, body)
    assert flagged.flagged and not flagged.blocked
    # The description names what was found, never the value itself.
    assert flagged.found_text == "a phone number and an off-platform payment handle (Venmo)"
    assert not check_sitter_message(blocking, "All good!").violated
