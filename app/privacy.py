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


# A phone number in a log line: a run of digits with separators, not part of a longer word,
# id or hex string (`sid=SMa1b2…`, a UUID's last group) and not a date.
_LOGGABLE_PHONE = re.compile(r"(?<![\w\-(])\+?\(?\d[\d\-. ()]{6,}\d(?![\w\-])")
_LEADING_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def mask_phone_numbers_in_log_text(text: str) -> str:
    """Cut every phone number in a log line to its last four digits, leaving ids intact."""

    def _mask(m: re.Match) -> str:
        found = m.group(0)
        digits = _digit_count(found)
        plausible = 10 <= digits <= 15 or (found.startswith("+") and 8 <= digits <= 15)
        if not plausible or _LEADING_DATE.match(found):
            return found
        return mask_phone(found)

    return _LOGGABLE_PHONE.sub(_mask, text)


# PostgreSQL's error details quote the row or key values (a message body, a number, an
# email); hide_parameters does not reach them, so they are cut here.
_PG_ROW_DETAIL = re.compile(r"(Failing row contains )\(.*?\)(?=\.?\s*(?:\n\[SQL:|\n\s*\n|\Z))", re.S)
_PG_KEY_DETAIL = re.compile(r"(Key \([^()]*\)=)\(.*?\)(?= already exists| is not present| conflicts with)", re.S)
DATABASE_VALUES_HIDDEN = "(values hidden)"


def mask_log_text(text: str) -> str:
    """Phone numbers cut to four digits, and database error details without their values."""
    text = _PG_ROW_DETAIL.sub(lambda m: m.group(1) + DATABASE_VALUES_HIDDEN, text)
    text = _PG_KEY_DETAIL.sub(lambda m: m.group(1) + DATABASE_VALUES_HIDDEN, text)
    return mask_phone_numbers_in_log_text(text)


def mask_log_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the message, the traceback and the stack of a record, once, in place."""
    if getattr(record, "_phones_masked", False):
        return record
    record._phones_masked = True
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is the logger's problem, not ours
        return record
    masked = mask_log_text(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text instead of formatting the traceback again.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_log_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_log_text(record.stack_info)
    return record


class MaskPhoneNumbersFilter(logging.Filter):
    """Log records leave with phone numbers cut to their last four digits."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_log_record(record)
        return True


def install_log_masking() -> None:
    """Mask every record the process creates, whichever logger or handler takes it.

    A LogRecord factory runs for every record, so handlers added later (gunicorn's,
    a test's, an operator's) cannot miss it; the root logger's handlers also get the
    filter for records built by hand (logging.makeLogRecord) and passed to handle().
    """
    current = logging.getLogRecordFactory()
    if not getattr(current, "_masks_phone_numbers", False):
        def factory(*args, **kwargs):
            return mask_log_record(current(*args, **kwargs))

        factory._masks_phone_numbers = True
        logging.setLogRecordFactory(factory)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskPhoneNumbersFilter) for f in handler.filters):
            handler.addFilter(MaskPhoneNumbersFilter())
