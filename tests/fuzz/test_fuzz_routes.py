"""Every route in url_map (found at run time), GET and POST, as anonymous, sitter, staff and owner
with a valid CSRF token, with hostile path ids, query strings, forms and JSON bodies.

Properties: no answer is a 5xx, and a 4xx answer changed no row (beyond the audit trail
of a refusal, REFUSAL_AUDIT_TABLES).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import create_app
from tests.fuzz.conftest import FUZZ_SETTINGS, ROLES
from tests.fuzz.hostile import (
    JSON_TEXTS,
    changed_tables,
    field_names,
    hostile_text,
    id_value,
    json_object,
    snapshot,
)

_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
# Logging a role out would end the module's session for every later example; anonymous covers it.
_LOGGED_IN_ONLY_SKIP = frozenset({"auth.logout"})


def _routes() -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) for every route, read from a freshly built app's url_map."""
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "fuzz",
                      "REDIS_URL": None})
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.rule, method, rule.endpoint))
    return sorted(set(found))


ROUTES = _routes()


def _path(data, rule: str, known_ids: list[int]) -> str:
    def value(match: re.Match) -> str:
        if match.group("converter") == "int":
            return str(data.draw(id_value(known_ids), label=match.group("name")))
        return quote(data.draw(hostile_text(), label=match.group("name")) or "x", safe="")

    return _ARGUMENT.sub(value, rule)


@pytest.mark.parametrize(("rule", "method", "endpoint"), ROUTES, ids=[f"{m} {r}" for r, m, _ in ROUTES])
@FUZZ_SETTINGS
@given(data=st.data())
def test_no_input_makes_a_5xx_or_a_4xx_that_writes(world_sessions, rule, method, endpoint, data):
    roles = [r for r in ROLES if r == "anonymous" or endpoint not in _LOGGED_IN_ONLY_SKIP]
    world = world_sessions
    role = data.draw(st.sampled_from(roles), label="role")
    client, token = world.clients[role], world.tokens[role]
    names = field_names()
    path = _path(data, rule, world.ids)
    query = data.draw(st.dictionaries(st.sampled_from(names), hostile_text(), max_size=4), label="query")
    headers = {"X-CSRFToken": token}
    if data.draw(st.booleans(), label="htmx"):
        headers["HX-Request"] = "true"
    shown = world.forms[role].get(endpoint, []) if method == "POST" else []
    filled = data.draw(st.one_of(st.none(), st.sampled_from(shown)) if shown else st.none(), label="shown form")
    form: dict[str, str] = {}
    if filled is not None:  # the form as its page fills it, with a few fields broken
        action = urlsplit(filled.action)
        path, query = action.path, {**dict(parse_qsl(action.query)), **query}
        form = dict(filled.fields)
        broken = data.draw(st.lists(st.sampled_from(sorted(form) or names), max_size=3), label="broken fields")
        form.update({name: data.draw(hostile_text(), label=name) for name in broken})
    request = {"method": method, "query_string": query, "headers": headers}
    if method == "POST":
        if filled is None and data.draw(st.integers(0, 4), label="json body?") == 0:
            body = data.draw(st.one_of(st.sampled_from(JSON_TEXTS), json_object(names)), label="json")
            request.update(data=body, content_type="application/json")
        else:
            extra = data.draw(st.dictionaries(st.sampled_from(names), hostile_text(), max_size=7 if filled is None
                                              else 2), label="form")
            request["data"] = {**form, **extra, "csrf_token": token}

    before = snapshot(world.app)
    response = client.open(path, **request)
    status = response.status_code
    assert status < 500, f"{method} {path} as {role} answered {status}"
    if 400 <= status < 500:
        wrote = changed_tables(before, snapshot(world.app))
        assert wrote == [], f"{method} {path} as {role} answered {status} but wrote to {wrote}"
