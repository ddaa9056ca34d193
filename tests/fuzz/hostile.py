"""Hostile values for the fuzz suite, and the database snapshot its "no row changed" check uses."""

from __future__ import annotations

import functools
import importlib
import json
from pathlib import Path

from hypothesis import strategies as st
from sqlalchemy import select

import app as app_package
from app.extensions import db

# Tables a refused request may still write to: the audit trail of the refusal itself
# (a send outside the window or a policy block is recorded and alerted, then refused).
REFUSAL_AUDIT_TABLES = frozenset({"event_logs", "alerts"})

HUGE_NUMBERS = ["99999999999999999999", "2147483648", "2147483647", "9223372036854775808", "-1", "0", "-0",
                "1e400", "NaN", "sNaN", "Infinity", "-Infinity", "0x10", "١٢٣", "1_000", " 7 "]
IMPOSSIBLE_DATES = ["9999-12-31", "0001-01-01", "0000-00-00", "2026-02-30", "2026-13-01", "10000-01-01",
                    "9999-12-31T23:59", "0001-01-01T00:00", "2026-11-25T25:61", "2026-11-25T10:00:00+99:00",
                    "1899-12-31", "2200-01-01", "-2026-11-25"]
ODD_UNICODE = ["\u202egnp.exe", "\u200b", "\ufeffbom", "e\u0301\u0301\u0301", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "🐶" * 50, "\uffff",
               "Ω≈ç√∫", "ﷺ" * 30, "\u0000", "\r\nSet-Cookie: x=1", "%00", "../../etc/passwd", "<script>x</script>",
               "{{ 7*7 }}", "' OR 1=1 --", "\\", "//evil.example", "/\\evil.example"]
PLAUSIBLE = ["1", "2", "3", "y", "on", "", "booking_confirmation", "night_before_reminder", "pool", "owner", "staff",
             "2026-11-25", "2026-11-25T10:00", "2026-11-26T11:00", "America/New_York", "+12025550101",
             "Walk", "35.00", "flag", "block", "/admin", "/sitter", "sasha@example.test"]


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


JSON_TEXTS = [deep_json(50_000), '{"a":' * 2000 + "1" + "}" * 2000, '{"booking_id": 99999999999999999999}',
              '{"booking_id": "x", "id": [], "metadata": null}', "[1, 2, ", "null", '"\\u0000"', "1e999999"]

def json_object(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    """A JSON object with the app's field names and values of every JSON type (wrong ones too)."""
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                        hostile_text())
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
    return st.dictionaries(st.sampled_from(names), values, max_size=6).map(json.dumps)


_no_surrogates = st.characters(exclude_categories=["Cs"])
_controls = st.characters(min_codepoint=0, max_codepoint=0x9F).filter(lambda ch: ch.isprintable() is False)


def hostile_text() -> st.SearchStrategy[str]:
    """One value a person (or a script) might put in any field."""
    return st.one_of(
        st.sampled_from(HUGE_NUMBERS + IMPOSSIBLE_DATES + ODD_UNICODE + PLAUSIBLE + JSON_TEXTS[2:]),
        st.text(_no_surrogates, max_size=40),
        st.text(st.one_of(_controls, st.sampled_from("ab1 -:")), min_size=1, max_size=12),
        st.builds(lambda ch, n: ch * n, st.sampled_from("x9é🐶"), st.sampled_from([256, 2001, 5000, 70_000])),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
    )


def id_value(known_ids: list[int]) -> st.SearchStrategy[int]:
    """An id for an `<int:…>` path segment: a real one, or one at or past the edges (negative too)."""
    return st.one_of(st.sampled_from(known_ids), st.sampled_from([0, 2**31 - 1, 2**31, 2**63, 10**20]),
                     st.integers(min_value=-(10**30), max_value=10**30))


@functools.cache
def field_names() -> tuple[str, ...]:
    """Every field name any form of the app declares (found at run time: new forms count too).

    Every module of `app` is imported first and the answer is kept: a form module imported lazily by
    one example's request would otherwise change the list between examples, and Hypothesis reports a
    list that changes under `sampled_from` as a flaky strategy (FlakyStrategyDefinition)."""
    from flask_wtf import FlaskForm

    root = Path(app_package.__file__).parent
    for source in sorted(root.rglob("*.py")):  # rglob: app/blueprints is a namespace package
        parts = source.relative_to(root.parent).with_suffix("").parts
        importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))

    names = {"q", "page", "next", "kind", "handled", "paid", "enabled", "booking_id", "client_id", "sitter_id",
             "status", "date_from", "date_to", "body", "reason", "active"}
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form_class = pending.pop()
        pending += form_class.__subclasses__()
        names.update(name for name in dir(form_class) if hasattr(getattr(form_class, name, None), "field_class"))
    return tuple(sorted(names))


def snapshot(app, skip: frozenset[str] = REFUSAL_AUDIT_TABLES) -> dict[str, list[tuple]]:
    """Every row of every table (but those in `skip`), in primary-key order."""
    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            if table.name not in skip:
                query = select(table).order_by(*table.primary_key)
                rows[table.name] = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))
