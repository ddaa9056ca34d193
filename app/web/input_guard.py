"""Input that cannot hurt: ids the database can hold, strings without control characters,
dates inside the calendar the code can compute with, and same-site redirect targets.

Causes, not instances: the `int` URL converter is replaced for every route (an id
outside the database's integer range simply matches no route: 404), and one
`before_request` hook refuses control characters and impossible dates in every query
string and form of the app, whichever blueprint adds the field.
"""

from __future__ import annotations

import json
import re

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter, ValidationError
from wtforms.validators import NumberRange

# PostgreSQL `integer` (SQLite holds more; the smaller bound keeps both backends alike).
DB_INT_MAX = 2**31 - 1

# The years dates may name: enough for birthdays and bookings, far from datetime's
# edges (year 1 and 9999), where adding a day or a timezone offset overflows.
MIN_YEAR, MAX_YEAR = 1900, 2199

# C0 and C1 control characters. A form value keeps tab, CR and LF (textareas send
# them); a query string and a field name keep none (they are one line by nature).
_CONTROL_IN_FORM = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f]")
# A value that is only a date or a date-time (an <input type=date|datetime-local>).
_DATE_VALUE = re.compile(r"\s*(\d+)-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d*)?)?)?\s*")

# A query-string value longer than this is no search or filter a person typed.
MAX_QUERY_VALUE = 2000

# A JSON body (Flask-WTF reads one as form data) is an object nested at most this deep.
MAX_JSON_DEPTH = 8

# Blueprints whose form fields are checked by their own signed-webhook validation
# (a client's text must not be refused for a stray character: it is cleaned there).
OWN_VALIDATION_BLUEPRINTS = frozenset({"webhooks"})


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` matching only non-negative ids the database can hold; others are 404."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > DB_INT_MAX:
            raise ValidationError()
        return number


# Epoch seconds a signed link may carry: up to the end of year 9999 (datetime's last year), never
# the 32-bit id bound (that would stop every signed link in January 2038).
EPOCH_SECONDS_MAX = 253_402_300_799


class EpochSecondsConverter(IntegerConverter):
    """`<epoch:...>`: non-negative epoch seconds up to EPOCH_SECONDS_MAX; others are 404."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > EPOCH_SECONDS_MAX:
            raise ValidationError()
        return number


def id_range(message: str = "That is not a valid number.") -> NumberRange:
    """WTForms validator for an id typed into a form or query string (1 … DB_INT_MAX)."""
    return NumberRange(min=1, max=DB_INT_MAX, message=message)


def bounded_int_arg(raw: str | None, default: int, maximum: int = DB_INT_MAX) -> int:
    """A positive integer from a query argument, `default` when absent or unusable, capped."""
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    return min(max(value, 1), maximum)


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    return bool((_CONTROL_IN_FORM if multiline else _CONTROL_IN_LINE).search(text))


def date_out_of_bounds(text: str) -> bool:
    """True for a date-only value whose year the code cannot safely compute with."""
    match = _DATE_VALUE.fullmatch(text)
    if match is None:
        return False
    digits = match.group(1)
    return len(digits) > 4 or not MIN_YEAR <= int(digits) <= MAX_YEAR


def input_problem(args, form=None) -> str | None:
    """Why this query string and form (None: not checked here) cannot be accepted, or None when they can."""
    fields = [(key, value, False) for key, value in args.items(multi=True)]
    if form is not None:
        fields += [(key, value, True) for key, value in form.items(multi=True)]
    for key, value, multiline in fields:
        shown = "a field" if has_control_characters(key) else f"“{key[:40]}”"
        if has_control_characters(key) or has_control_characters(value, multiline=multiline):
            return f"The request has control characters in {shown}; remove them and try again."
        if not multiline and len(value) > MAX_QUERY_VALUE:
            return f"The value of {shown} is too long (at most {MAX_QUERY_VALUE:,} characters)."
        if date_out_of_bounds(value):
            return f"The date in {shown} must fall between the years {MIN_YEAR} and {MAX_YEAR}."
    return None


def takes_structured_json(view):
    """Mark a view that reads nested JSON itself (request.get_json()); others get JSON only as a
    flat object of strings, the shape of a form, because Flask-WTF reads a JSON body as form data."""
    view.takes_structured_json = True
    return view


def json_body_problem(raw: bytes, *, structured: bool = False) -> str | None:
    """Why a JSON request body cannot be accepted, or None.

    Refused: text that is not JSON (or nested so deep the parser gives up), anything but an
    object, control characters in any key or string, and then either anything but string
    values (a form-shaped body) or, for a view that takes structured JSON, nesting past
    MAX_JSON_DEPTH.
    """
    try:
        parsed = json.loads(raw or b"null")
    except (ValueError, RecursionError):
        return "The request body is not valid JSON."
    if not isinstance(parsed, dict):
        return "A JSON request body must be an object."
    if not structured and not all(isinstance(value, str) for value in parsed.values()):
        return "Every value of this JSON body must be a string, as in a form."
    pending = [(parsed, 1)]
    while pending:  # iterative: the depth is what is being checked
        value, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The JSON body is nested more than {MAX_JSON_DEPTH} deep."
        if isinstance(value, dict):
            if any(has_control_characters(str(key)) for key in value):
                return "The JSON body has control characters in a key."
            pending += [(item, depth + 1) for item in value.values()]
        elif isinstance(value, list):
            pending += [(item, depth + 1) for item in value]
        elif isinstance(value, str) and has_control_characters(value, multiline=True):
            return "The JSON body has control characters in a value."
    return None


def safe_redirect_target(target: str | None) -> str | None:
    """A same-site path to go back to after logging in, or None.

    Refuses other hosts (`//evil`, `https://evil`), a backslash (browsers read `/\\evil`
    as `//evil`) and control characters (a CR/LF would split the Location header).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or has_control_characters(target):
        return None
    return target


def reject_unusable_input() -> None:
    """before_request: a 400 saying why, before any view or service sees the values."""
    own_validation = request.blueprint in OWN_VALIDATION_BLUEPRINTS
    # A webhook's form is its own to check: not even parsed here (a JSON body has none anyway).
    problem = input_problem(request.args, None if own_validation else request.form)
    if problem is None and request.is_json and not own_validation:
        view = current_app.view_functions.get(request.endpoint)
        problem = json_body_problem(request.get_data(cache=True),
                                    structured=getattr(view, "takes_structured_json", False))
    if problem:
        abort(400, description=problem)


def install_input_guards(app: Flask) -> None:
    """Register the bounded id and epoch converters (before any route is added) and the input check."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.url_map.converters["epoch"] = EpochSecondsConverter
    app.before_request(reject_unusable_input)
