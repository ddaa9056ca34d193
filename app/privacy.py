"""Keeping clients' real numbers away from sitters and out of logs."""

from __future__ import annotations

import logging
import re

import phonenumbers

HIDDEN = "[number hidden]"

# Anything that looks like a phone number in free text: +country codes,
# (202) 555-0101, 202.555.0101, 2025550101 … (7 or more digits with separators).
_PHONE_LIKE = re.compile(r"(?<![\w])\+?\d[\d\s().\-]{5,}\d(?![\w])")


def mask_phone(e164: str | None) -> str:
    """'+12025550101' → '•••0101' (for logs and for sitter-facing labels)."""
    if not e164:
        return ""
    digits = re.sub(r"\D", "", e164)
    return "•••" + digits[-4:] if len(digits) >= 4 else "•••"


_DATE_OR_TIME = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$")


def _digit_count(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def redact_phone_numbers(text: str | None, region: str = "US") -> str:
    """Replace every phone number in text with a marker, whatever its format.

    Used on every body a sitter sees: a client who types their own number
    must not hand it to the sitter through us.
    """
    if not text:
        return text or ""
    out = text
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if not _DATE_OR_TIME.match(match.raw_string.strip()):
            out = out.replace(match.raw_string, HIDDEN)

    def _hide(m: re.Match) -> str:
        found = m.group(0)
        if _digit_count(found) < 7 or _DATE_OR_TIME.match(found.strip()):
            return found
        return HIDDEN

    return _PHONE_LIKE.sub(_hide, out)


class MaskPhoneNumbersFilter(logging.Filter):
    """Log records leave with phone numbers cut to their last four digits."""

    _LOGGABLE_PHONE = re.compile(r"\+?\d[\d\-. ]{8,}\d")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        masked = self._LOGGABLE_PHONE.sub(lambda m: mask_phone(m.group(0)), message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
