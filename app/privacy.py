"""Keeping clients' real numbers away from sitters and out of logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

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

EMAIL_HIDDEN = "[email hidden]"
# name@host.tld, and the usual disguises: name (at) host (dot) com, name at host dot com.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_EMAIL_SPELLED = re.compile(
    r"[\w.+-]+\s*(?:\(at\)|\[at\]|\bat\b)\s*[\w-]+\s*(?:\.|\(dot\)|\[dot\]|\bdot\b)\s*"
    r"(?:com|net|org|edu|gov|io|co|us|me|info|biz)\b", re.IGNORECASE)

# Digits written as words or as look-alike letters ("two oh two", "202-555-O131", "2O2 555 0l3l").
_NUMBER_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
                 "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
                 "dash": "-", "hyphen": "-", "dot": "."}
_LOOKALIKE_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})
_TOKENS = re.compile(r"[A-Za-z0-9]+|[^A-Za-z0-9]+")
_PAUSE = re.compile(r"\s*,\s+")


def _digit_count(s: str) -> int:
    return sum(ch.isdigit() for ch in s)


def _as_digits(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`text` with number words and look-alike letters read as digits, and for each character
    of that reading the span of `text` it came from (so a match maps back to the original)."""
    read: list[str] = []
    spans: list[tuple[int, int]] = []
    after_number_word = False
    for token in _TOKENS.finditer(text):
        word, start = token.group(0), token.start()
        digit = _NUMBER_WORDS.get(word.lower()) if word.isalpha() else None
        if digit is not None:
            read.append(digit)
            spans.append((start, token.end()))
            after_number_word = True
            continue
        if word.isalnum() and any(ch.isdigit() for ch in word):
            word = word.translate(_LOOKALIKE_DIGITS)
        elif after_number_word and _PAUSE.fullmatch(word):
            word = word.replace(",", " ")  # "two oh two, 555, 0131": the comma is a pause
        # A number word or a group of a phone number (3-4 digits) may be followed by such a pause;
        # "1,250,000" (no space) and "at 9, 12, 3" (short groups) are not.
        after_number_word = word.isdigit() and 3 <= len(word) <= 4
        read.extend(word)
        spans.extend((start + i, start + i + 1) for i in range(len(word)))
    return "".join(read), spans


def _phone_spans(text: str, region: str) -> list[tuple[int, int]]:
    """Spans of `text` that hold a phone number in any format (dates excluded)."""
    found = []
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if not _DATE_OR_TIME.match(match.raw_string.strip()):
            found.append((match.start, match.end))
    for match in _PHONE_LIKE.finditer(text):
        if _digit_count(match.group(0)) >= 7 and not _DATE_OR_TIME.match(match.group(0).strip()):
            found.append(match.span())
    return found


def _replace_spans(text: str, spans: list[tuple[int, int]], marker: str) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + marker + text[end:]
    return text


def redact_phone_numbers(text: str | None, region: str = "US") -> str:
    """Replace every phone number in text with a marker, whatever its format, including
    digits typed as look-alike letters (O for 0, l or I for 1) or spelled out as words.

    A client who types their own number must not hand it to the sitter through us.
    """
    if not text:
        return text or ""
    read, origin = _as_digits(text)
    spans = [(origin[start][0], origin[end - 1][1]) for start, end in _phone_spans(read, region) if end > start]
    return _replace_spans(text, spans, HIDDEN) if spans else text


def redact_emails(text: str | None) -> str:
    """Replace e-mail addresses (plain or spelled "name at host dot com") with a marker."""
    if not text:
        return text or ""
    return _EMAIL_SPELLED.sub(EMAIL_HIDDEN, _EMAIL.sub(EMAIL_HIDDEN, text))


def redact_for_sitter(text: str | None, *, client_numbers: Iterable[str | None] | None = None) -> str:
    """The one redaction for anything a person typed that a sitter is shown (message bodies,
    client names, area and notes, pet names, services, alerts, push payloads): phone numbers
    and e-mail addresses become markers. E-mails go first: they can hold digits.

    `client_numbers` (the client's own numbers, E.164): the text is one an owner or staff member
    wrote for the sitter (care notes): only the client's own numbers are hidden, in any format;
    numbers for someone else (the vet, a neighbour) stay readable."""
    if client_numbers is None:
        return redact_phone_numbers(redact_emails(text))
    return _redact_own_numbers(redact_emails(text), client_numbers)


def _national_digits(digits: str) -> str:
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _redact_own_numbers(text: str, client_numbers: Iterable[str | None], region: str = "US") -> str:
    own = {_national_digits(re.sub(r"\D", "", n)) for n in client_numbers if n}
    own.discard("")
    if not text or not own:
        return text
    read, origin = _as_digits(text)
    spans = []
    for start, end in _phone_spans(read, region):
        if end <= start:
            continue
        digits = _national_digits(re.sub(r"\D", "", read[start:end]))
        # The number (alone or run together with others), or typed without its area code.
        if any(n in digits for n in own) or (len(digits) < 10 and any(n.endswith(digits[-7:]) for n in own)):
            spans.append((origin[start][0], origin[end - 1][1]))
    return _replace_spans(text, spans, HIDDEN) if spans else text


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
# A reset link of the old shape (`/reset/<token>`) someone still opens: its token never reaches
# a log line (gunicorn's access line included). Today's links keep the token in the fragment.
_RESET_PATH_TOKEN = re.compile(r"(/reset/)[^\s?#\"'&]+")
RESET_TOKEN_HIDDEN = "[token hidden]"


def mask_log_text(text: str) -> str:
    """Phone numbers cut to four digits, database error details without their values, and no
    reset token in a path."""
    text = _RESET_PATH_TOKEN.sub(lambda m: m.group(1) + RESET_TOKEN_HIDDEN, text)
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


def redact_these_numbers(text: str | None, numbers: list[str], region: str = "US") -> str:
    """Text an owner or staff member wrote for a sitter (pet profiles): the given numbers (the
    client's own, E.164) become markers in whatever format they were typed; every other number
    (the vet, a neighbour) is kept."""
    if not text:
        return text or ""
    wanted = {n[-10:] for n in (re.sub(r"\D", "", x or "") for x in numbers) if len(n) >= 7}
    read, origin = _as_digits(text)
    spans = [(origin[start][0], origin[end - 1][1]) for start, end in _phone_spans(read, region)
             if end > start and re.sub(r"\D", "", read[start:end])[-10:] in wanted]
    return _replace_spans(text, spans, HIDDEN) if spans else text
