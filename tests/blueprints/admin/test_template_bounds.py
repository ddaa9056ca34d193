"""Template cost is bounded: the probe's chains and nesting are template errors with a reason, never 500s."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from app.models import AutomationTemplate
from app.services.automations import templates
from app.services.automations.templates import SAMPLE_CONTEXT, render_template_body, validate_template

CHAIN_320 = "{{ client_first_name" + "|d" * 320 + " }}"
CHAIN_190 = "Hi {{ client_first_name" + "|d" * 190 + " }}"
NESTED_150 = "{{ " + "(" * 150 + "client_first_name" + ")" * 150 + " }}"


def _post(client, path, body, booking_id, **headers):
    return client.post(path, data={"kind": "booking_confirmation", "body": body, "booking_id": booking_id},
                       headers=headers)


@pytest.mark.parametrize("body, reason", [(CHAIN_320, "Too many filters in a row"),
                                          (NESTED_150, "nested too deeply")])
def test_the_probes_previews_answer_at_once_with_the_reason(client, login_as, org_rows, body, reason):
    login_as(org_rows.owner)
    started = time.perf_counter()
    response = _post(client, "/admin/automations/preview?kind=booking_confirmation", body, org_rows.booking.id,
                     **{"HX-Request": "true"})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and reason in response.get_data(as_text=True)
    assert elapsed < 2, elapsed  # was 17.5 s of CPU (320 filters) or a 500 (RecursionError)


@pytest.mark.parametrize("body, reason", [(CHAIN_190, "Too many filters in a row"),
                                          (NESTED_150, "nested too deeply")])
def test_the_probes_templates_cannot_be_saved(client, login_as, org_rows, db, body, reason):
    login_as(org_rows.owner)
    response = _post(client, "/admin/automations/template?kind=booking_confirmation", body, org_rows.booking.id)
    assert response.status_code == 422 and reason in response.get_data(as_text=True)
    assert db.session.scalar(select(AutomationTemplate)) is None


def test_any_parser_exception_is_a_template_error(monkeypatch):
    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(templates._env, "parse", explode)
    assert validate_template("Hi {{ client_first_name }} and a body seen once") == [
        "The template is nested too deeply to read."]


def test_a_saved_template_is_compiled_once_for_every_send(monkeypatch):
    body = "Hi {{ client_first_name|upper }}, {{ pet_names }} on {{ start_date }} (compiled once)"
    calls = []
    real = templates._env.from_string
    monkeypatch.setattr(templates._env, "from_string", lambda source: calls.append(1) or real(source))
    texts = {render_template_body(body, dict(SAMPLE_CONTEXT, client_first_name=name)) for name in ("Al", "Bo", "Cy")}
    assert texts == {f"Hi {n}, Mochi, Tofu and Biscuit on Wed, Nov 25 (compiled once)" for n in ("AL", "BO", "CY")}
    assert len(calls) == 1


def test_deep_ifs_and_long_or_chains_are_refused_by_the_depth_bound():
    deep_or = "{{ " + " or ".join(["client_first_name"] * 40) + " }}"
    assert any("Nested too deeply" in p for p in validate_template(deep_or))
    for kind, body in templates.DEFAULT_TEMPLATES.items():
        assert validate_template(body) == [], kind
