"""One redaction for everything a sitter is shown that a person typed."""

from __future__ import annotations

import pytest

from app.privacy import EMAIL_HIDDEN, HIDDEN, redact_for_sitter


@pytest.mark.parametrize("typed", [
    "202-555-0131",
    "202-555-O131",  # letter O for zero
    "2O2 555 0l3l",  # O and lower-case L
    "2O2.555.OI3I",  # capital I for one
    "two oh two five five five oh one three one",
    "Two zero two, five five five, zero one three one",
    "202 five five five 0131",
    "two oh two dash five five five dash oh one three one",
    "(202) 555-0131",
    "+1 202 555 0131",
])
def test_phone_numbers_in_any_disguise_are_hidden(typed):
    shown = redact_for_sitter(f"Mochi's mum: {typed}, thanks")
    assert shown == f"Mochi's mum: {HIDDEN}, thanks"


@pytest.mark.parametrize("typed", ["alex.morgan+dogs@example.com", "alex at gmail dot com", "alex (at) mail (dot) net"])
def test_email_addresses_are_hidden(typed):
    assert redact_for_sitter(f"write to {typed} please") == f"write to {EMAIL_HIDDEN} please"


@pytest.mark.parametrize("ordinary", [
    "Feed one cup two times a day at 5:30",
    "Visit on 2026-11-25 or 11/25/2026",
    "Gate code 4411, alarm 9021",
    "Apt 4B, 1200 Main St",
    "Oliver and Lola love long walks",
    "Paid 1,250.00 in cash",
    "",
])
def test_ordinary_notes_are_left_alone(ordinary):
    assert redact_for_sitter(ordinary) == ordinary


def test_none_is_an_empty_text():
    assert redact_for_sitter(None) == ""
