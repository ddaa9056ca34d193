"""The webhook's checks on the body's bytes agree with the walks over the parsed event they stand in for.

verify_event asks the bytes first (C speed) and walks the parsed event only when the bytes cannot
answer: depth from the brackets outside strings, NUL and surrogates from the escapes that alone can
make them. A body json.dumps writes (no duplicate keys) gets the walk's exact answer on depth; a NUL
or surrogate the walk would find is always among the escapes the bytes show. Any JSON text (duplicate
keys, escapes of every kind) is at least as deep by its brackets as its parsed value.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.payments.stripe_events import (
    _body_depth_at_most,
    _body_has_no_nul_or_surrogate_escape,
    _bracket_depth,
    _depth_at_most,
    _text_is_storable,
)

CHECKS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow])

# Characters that matter to the bytes' reading: quotes, backslashes, brackets, NUL, surrogates.
_TRICKY = st.sampled_from(['"', "\\", "[", "]", "{", "}", "\x00", "\ud800", "\udfff", "\ud83d", "\ude00",
                           "u", "d", "D", "0", "é", "🐶", "\\u0000", "\\ud800", "\\\\"])
_STRINGS = st.lists(st.one_of(st.characters(), _TRICKY), max_size=8).map("".join)


def _values(max_leaves: int = 25):
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _STRINGS)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(_STRINGS, inner, max_size=4), max_leaves=max_leaves)


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _body(value, ascii_only: bool) -> bytes | None:
    try:
        return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    except UnicodeEncodeError:  # a raw lone surrogate cannot be UTF-8: Stripe's bytes never hold one
        return None


@CHECKS
@given(value=_values(), ascii_only=st.booleans(), spread=st.integers(-3, 3))
def test_the_bytes_give_the_walks_answer_on_depth(value, ascii_only, spread):
    body = _body(value, ascii_only)
    if body is None:
        return
    parsed = json.loads(body.decode("utf-8"))
    assert _bracket_depth(body) == _depth(parsed)
    limit = max(0, _depth(parsed) + spread)
    assert _body_depth_at_most(body, limit) == _depth_at_most(parsed, limit)


@CHECKS
@given(value=_values(), ascii_only=st.booleans())
def test_a_body_the_bytes_clear_holds_no_nul_or_lone_surrogate(value, ascii_only):
    body = _body(value, ascii_only)
    if body is None:
        return
    if _body_has_no_nul_or_surrogate_escape(body):
        assert _text_is_storable(json.loads(body.decode("utf-8")))


def test_the_walk_decides_what_the_bytes_cannot_clear():
    """A NUL or surrogate escape, or an escaped backslash that only looks like one: the bytes pass
    each to the walk, which stores the look-alike and the paired surrogates and refuses the rest."""
    cases = {'{"a": "\\u0000"}': False, '{"a\\ud800": 1}': False, '{"a": "\\udfff"}': False,
             '{"a": "\\\\u0000 and \\\\ud800"}': True, '{"a": "\\ud83d\\ude00"}': True}
    for text, storable in cases.items():
        body = text.encode()
        assert not _body_has_no_nul_or_surrogate_escape(body), text
        assert _text_is_storable(json.loads(text)) is storable, text


@st.composite
def _json_text(draw, depth: int = 0) -> str:
    """Any JSON text, written by hand: duplicate keys, every escape, strings full of brackets."""
    escape = st.sampled_from(['\\"', "\\\\", "\\/", "\\n", "\\u0000", "\\ud800", "\\uDBFF", "\\u005b", "\\u007d"])
    string = '"' + "".join(draw(st.lists(st.one_of(escape, st.sampled_from(list("ab[]{} :,é🐶"))),
                                         max_size=6))) + '"'
    kind = draw(st.sampled_from(["string", "number", "list", "object"] if depth < 12 else ["string", "number"]))
    if kind == "string":
        return string
    if kind == "number":
        return str(draw(st.integers(-5, 5)))
    items = draw(st.lists(_json_text(depth + 1), max_size=3))
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    keys = draw(st.lists(st.sampled_from(['"k"', '"k"', '"[{"', '"\\"}"']), min_size=len(items), max_size=len(items)))
    return "{" + ", ".join(f"{key}: {item}" for key, item in zip(keys, items, strict=True)) + "}"


@CHECKS
@given(text=_json_text(), limit=st.integers(0, 14))
def test_any_json_text_is_at_least_as_deep_by_its_brackets(text, limit):
    parsed = json.loads(text)
    assert _bracket_depth(text.encode()) >= _depth(parsed)
    if _body_depth_at_most(text.encode(), limit):
        assert _depth_at_most(parsed, limit)
    if _body_has_no_nul_or_surrogate_escape(text.encode()):
        assert _text_is_storable(parsed)
