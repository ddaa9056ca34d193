"""No sitter page or partial shows a client's real number, in any format."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import phonenumbers

from app.extensions import db
from tests.support.sitter_data import make_visit

START = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
HX = {"HX-Request": "true"}
CLIENTS = [  # (name, real number)
    ("Alex Morgan", "+12025550101"),
    ("Jamie Chen", "+12025550102"),
    ("Priya Patel", "+13105550103"),
]


def number_forms(e164: str) -> set[str]:
    """Every way the number could show up on a page."""
    parsed = phonenumbers.parse(e164)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    digits = e164.lstrip("+")
    ten = digits[-10:]
    return {
        e164,
        national,
        international,
        digits,
        ten,
        f"{ten[:3]}-{ten[3:6]}-{ten[6:]}",
        f"{ten[:3]}.{ten[3:6]}.{ten[6:]}",
        f"{ten[:3]} {ten[3:6]} {ten[6:]}",
        ten[3:],
        f"{ten[3:6]}-{ten[6:]}",
    }


def _digits_only(html: str) -> str:
    return re.sub(r"\D", "", html)


def _dataset(make, clock):
    clock.set(START + timedelta(minutes=20))
    org = make.default_org
    org.policy_mode = "flag"
    sitter = make.sitter(name="Sasha Sitter")
    visits = []
    for i, (name, phone) in enumerate(CLIENTS):
        client = make.client(name=name, phone_e164=phone, pets=("Biscuit",), area="Dupont Circle")
        visits.append(make_visit(make, sitter=sitter, client=client, start=START + timedelta(hours=3 * i)))
    alex, jamie, priya = visits
    # Clients typing their own (and each other's) numbers in every common format.
    for body in (
        "Call me on (202) 555-0101 if anything",
        "my cell: 202.555.0101",
        "+1 202 555 0101",
        "text 2025550101",
        "or 202-555-0101",
        "Jamie's is +12025550102",
    ):
        make.message(
            thread=alex.thread,
            body=body,
            from_e164=CLIENTS[0][1],
            to_e164=alex.thread.message_number.e164,
        )
    make.message(thread=jamie.thread, body="reach me at 12025550102 pls", from_e164=CLIENTS[1][1])
    make.message(thread=priya.thread, body="(310) 555-0103 is my number", from_e164=CLIENTS[2][1])
    # Outbound: a sitter message that failed (its error mentions the number), an automation.
    make.message(
        thread=alex.thread,
        direction="outbound",
        sender_kind="sitter",
        sender_user_id=sitter.user_id,
        body="Sure, I'll call 202 555 0101",
        status="failed",
        to_e164=CLIENTS[0][1],
        error_message="The 'To' number +12025550101 is not reachable",
        error_code="30003",
    )
    make.message(
        thread=alex.thread,
        direction="outbound",
        sender_kind="automation",
        body="Your visit is confirmed",
        status="delivered",
        to_e164=CLIENTS[0][1],
    )
    make.alert(
        audience="sitter",
        sitter_id=sitter.id,
        kind="policy.violation",
        thread_id=alex.thread.id,
        text="Your message to Alex included a phone number (202) 555-0101",
    )
    make.alert(audience="owner", text="Owner only: +12025550101 failed")
    db.session.commit()
    return sitter, visits


def test_no_sitter_page_or_partial_shows_a_client_number(client, login_as, make, clock):
    sitter, visits = _dataset(make, clock)
    login_as(sitter.user)
    urls = ["/sitter", "/sitter/active", "/sitter/alerts"]
    for v in visits:
        tid = v.thread.id
        urls += [
            f"/sitter/threads/{tid}",
            f"/sitter/threads/{tid}/messages",
            f"/sitter/threads/{tid}/compose",
        ]
    pages = {}
    for url in urls:
        for headers in ({}, HX):
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            pages[f"{url} {headers}"] = response.get_data(as_text=True)
    # Refusals and the htmx send answer, too (the body typed includes a number).
    tid = visits[0].thread.id
    for headers in ({}, HX):
        pages[f"send {headers}"] = client.post(
            f"/sitter/threads/{tid}/messages",
            data={"body": "ok, calling (202) 555-0101"},
            headers=headers,
            follow_redirects=True,
        ).get_data(as_text=True)
    clock.set(START + timedelta(days=1))
    pages["refused"] = client.post(f"/sitter/threads/{tid}/messages", data={"body": "late"}).get_data(as_text=True)

    for _name, phone in CLIENTS:
        forms = number_forms(phone)
        for where, html in pages.items():
            for form in forms:
                assert form not in html, f"{form!r} found in {where}"
            assert phone.lstrip("+")[-10:] not in _digits_only(
                html.replace(visits[0].thread.message_number.e164, "")
            ), where
    # The redaction marker shows where a number was, and the conversation is still readable.
    thread_page = pages[f"/sitter/threads/{tid} {{}}"]
    assert "Call me on [number hidden] if anything" in thread_page
    assert "Alex" in thread_page and "Sure, I&#39;ll call [number hidden]" in thread_page
