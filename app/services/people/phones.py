"""Phone numbers in any common format → E.164, with a clear error when invalid."""

from __future__ import annotations

import phonenumbers

from app.errors import InvalidInput

DEFAULT_REGION = "US"


def to_e164(raw: str | None, region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """'(202) 555-0123' → '+12025550123'; raises InvalidInput naming the field."""
    text = (raw or "").strip()
    if not text:
        raise InvalidInput("Enter a phone number.", field=field)
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"{text!r} is not a phone number.", field=field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"{text!r} is not a valid phone number.", field=field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_e164(value: str | None) -> bool:
    try:
        return bool(value) and to_e164(value) == value
    except InvalidInput:
        return False


def national_format(e164: str) -> str:
    """'+12025550123' → '(202) 555-0123' (owners only; never on sitter pages)."""
    return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
