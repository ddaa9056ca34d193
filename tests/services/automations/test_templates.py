"""Automation templates: documented variables, sandboxed rendering, clear errors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.errors import InvalidInput, NotFound
from app.models import AUTOMATION_KINDS
from app.services.automations.templates import (
    DEFAULT_TEMPLATES,
    TEMPLATE_VARIABLES,
    TemplateRenderError,
    preview_template,
    render_template_body,
    validate_template,
)

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize("kind", AUTOMATION_KINDS)
def test_every_kind_has_a_valid_default(kind):
    assert validate_template(DEFAULT_TEMPLATES[kind]) == []


def test_validation_names_syntax_errors_and_unknown_variables():
    assert validate_template("Hi {{ client_first_name }") [0].startswith("Syntax error on line 1")
    assert validate_template("Hi {{ client_phone }}") == [
        f"Unknown variable: client_phone (known: {', '.join(TEMPLATE_VARIABLES)})"]
    assert validate_template("Hi {{ pet_names|shout }}")[0].startswith("Filter not allowed: shout")
    assert validate_template("   ") == ["The text is empty."]
    assert validate_template("x" * 1001)[0].startswith("The text is too long")


def test_sandbox_refuses_python_internals():
    with pytest.raises(TemplateRenderError):
        render_template_body("{{ client_first_name.__class__.__mro__ }}", {"client_first_name": "Alex"})


def test_preview_renders_a_booking_in_org_time(make, clock):
    org = make.default_org
    client = make.client(name="Jamie Chen", pets=("Mochi", "Tofu"))
    sitter = make.sitter(name="Sasha Sitter")
    booking = make.booking(client=client, sitter=sitter, start=datetime(2026, 3, 8, 9, 30, tzinfo=NY),
                           hours=1.5)
    text = preview_template(org.id, "night_before_reminder", DEFAULT_TEMPLATES["night_before_reminder"],
                            booking.id)
    assert text == ("Reminder from Happy Tails: Sasha will see Mochi and Tofu tomorrow, "
                    "Sun, Mar 8, 9:30 AM-11:00 AM.")
    body = "{{ client_first_name }}: {{ start_date }} {{ end_time }} / {{ business_name }}"
    assert preview_template(org.id, "visit_followup", body, booking.id) == "Jamie: Sun, Mar 8 11:00 AM / Happy Tails"


def test_preview_reports_problems_and_keeps_orgs_apart(make):
    booking = make.booking(sitter=None)
    with pytest.raises(InvalidInput, match="Unknown variable: phone"):
        preview_template(booking.org_id, "booking_confirmation", "{{ phone }}", booking.id)
    assert "your sitter" in preview_template(booking.org_id, "booking_confirmation",
                                             "{{ sitter_first_name }}", booking.id)
    other = make.org()
    with pytest.raises(NotFound):
        preview_template(other.id, "booking_confirmation", "Hi", booking.id)
    with pytest.raises(InvalidInput):
        preview_template(booking.org_id, "birthday", "Hi", booking.id)


def test_saved_override_is_used_disabled_or_reset(make, db):
    from app.services.automations.templates import reset_template, save_template, template_for

    org = make.default_org
    with pytest.raises(InvalidInput, match="Unknown variable: nickname"):
        save_template(org.id, "visit_followup", "Thanks {{ nickname }}")
    assert template_for(org.id, "visit_followup") == (DEFAULT_TEMPLATES["visit_followup"], True)
    save_template(org.id, "visit_followup", " Thanks, {{ client_first_name }}! ", enabled=False)
    assert template_for(org.id, "visit_followup") == ("Thanks, {{ client_first_name }}!", False)
    reset_template(org.id, "visit_followup")
    assert template_for(org.id, "visit_followup") == (DEFAULT_TEMPLATES["visit_followup"], True)
    assert template_for(make.org().id, "visit_followup")[0] == DEFAULT_TEMPLATES["visit_followup"]


NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"


@pytest.mark.parametrize(("body", "refused"), [
    ('{% include "admin/layout.html" %}', "{% include %}"),
    ('{% import "admin/_macros.html" as m %}', "{% import %}"),
    ('{% from "admin/_macros.html" import field %}', "{% import %}"),
    ('{% extends "base.html" %}', "{% extends %}"),
    ("{% macro m() %}x{% endmacro %}", "macros"),
    ("{% call range(3) %}x{% endcall %}", "call blocks"),
    (NESTED_LOOPS, "loops"),
    ("{% set x = 1 %}{{ client_first_name }}", "{% set %}"),
    ("{{ range(10) }}", "function calls"),
    ('{{ "x" * 100000000 }}', "arithmetic"),
    ("{{ client_first_name.upper() }}", "function calls"),
    ("{{ client_first_name[0] }}", "item access"),
])
def test_constructs_a_text_does_not_need_are_refused_at_save(make, body, refused):
    from app.services.automations.templates import save_template, template_for

    org = make.default_org
    with pytest.raises(InvalidInput, match="Not allowed in a text template") as error:
        save_template(org.id, "visit_followup", body)
    assert refused in str(error.value)
    assert template_for(org.id, "visit_followup")[0] == DEFAULT_TEMPLATES["visit_followup"]


def test_variables_allowed_filters_and_simple_ifs_are_accepted():
    body = ("{% if pet_names %}Hi {{ client_first_name|title }}, {{ pet_names|truncate(40) }}"
            "{% elif service == 'Walk' %}walk{% else %}{{ business_name|default('us')|upper }}{% endif %}")
    assert validate_template(body) == []


def test_a_template_whose_sample_text_is_over_1600_characters_is_refused():
    body = "{{ service }} " * 70  # under the 1,000-character source limit, over 1,600 rendered
    assert len(body) <= 1000
    [problem] = validate_template(body)
    assert problem.startswith("The text it makes is too long") and "at most 1600" in problem


def test_the_length_is_enforced_again_at_send():
    context = {"client_first_name": "A" * 1700}
    with pytest.raises(TemplateRenderError, match="at most 1600"):
        render_template_body("Hi {{ client_first_name }}", context)


def test_the_preview_of_nested_loops_answers_at_once_with_the_reason(make):
    booking = make.booking()
    with pytest.raises(InvalidInput, match="loops"):  # the parse-time walk's reason: it was never run
        preview_template(booking.org_id, "visit_followup", NESTED_LOOPS, booking.id)


# ------------------------------------------------------------ the wall-clock cap (issue 31)

# The probe's long chains of `|d`, kept under the bounds (six in a row, under the node count),
# and its nested loops (refused at parse time; here they go straight to the sandbox).
LONG_D_CHAINS = " ".join(["{{ client_first_name|d|d|d|d|d|d }}"] * 20)
CAPPED_CASES = [
    ("{% for a in range(20000) %}{% for b in range(20000) %}x{% endfor %}{% endfor %}", {}),
    ("{% for a in range(20000) %}{% for b in range(20000) %}{{ b|d }}{% endfor %}{% endfor %}", {}),
    ("{% for a in r %}{% for b in r %}{{ b.real }}{% endfor %}{% endfor %}", {"r": list(range(20000))}),
    ("{% for a in r %}{% for b in r %}{{ s[0] }}{% endfor %}{% endfor %}", {"r": list(range(20000)), "s": "abc"}),
    ("{% for a in r %}{% for b in r %}{% if b is even %}{% endif %}{% endfor %}{% endfor %}",
     {"r": list(range(20000))}),
    ("{% for a in r %}{% for b in r %}{{ s.upper() }}{% endfor %}{% endfor %}", {"r": list(range(20000)), "s": "a"}),
    ("{% for a in r %}{% for b in r %}{{ b + 1 }}{% endfor %}{% endfor %}", {"r": list(range(20000))}),
]


@pytest.mark.parametrize(("body", "context"), CAPPED_CASES)
def test_the_sandbox_stops_a_render_at_its_time_cap(body, context):
    import time

    from app.services.automations.template_sandbox import TemplateTimeout, time_cap
    from app.services.automations.templates import _env

    template = _env.from_string(body)
    started = time.monotonic()
    with pytest.raises(TemplateTimeout, match="took too long"), time_cap(0.25):
        template.render(**context)
    # 400 million steps would take minutes: ending within a bound this loose (for a loaded machine)
    # can only mean the cap stopped it, and the error says so.
    assert time.monotonic() - started < 30


def test_a_render_waiting_on_a_busy_machine_is_not_stopped(monkeypatch):
    """The cap counts the render's own CPU time: wall-clock time lost to other processes (a loaded
    server, another request holding the GIL) does not refuse a cheap template."""
    import time
    from types import SimpleNamespace

    from app.services.automations import template_sandbox
    from app.services.automations.templates import _env

    template = _env.from_string(LONG_D_CHAINS)
    with template_sandbox.time_cap(0.25):
        # A minute passes on the wall between two steps; the thread itself has hardly worked.
        monkeypatch.setattr(template_sandbox, "time", SimpleNamespace(
            monotonic=lambda: time.monotonic() + 60, thread_time=time.thread_time))
        assert template.render(client_first_name="Ann").startswith("Ann")


def test_outside_a_cap_nothing_is_checked():
    from app.services.automations.templates import _env

    assert _env.from_string("{% for a in range(3) %}{{ a|d }}{% endfor %}").render() == "012"


def test_a_preview_past_its_cap_is_a_clear_invalid_input(make, monkeypatch):
    from app.services.automations import template_sandbox

    booking = make.booking()
    assert validate_template(LONG_D_CHAINS) == []  # within every parse-time bound
    assert preview_template(booking.org_id, "visit_followup", LONG_D_CHAINS, booking.id).startswith(
        booking.client.first_name)
    monkeypatch.setattr(template_sandbox, "PREVIEW_TIME_CAP", 0.0)  # a machine too busy to finish in time
    with pytest.raises(InvalidInput, match="took too long to render") as refused:
        preview_template(booking.org_id, "visit_followup", LONG_D_CHAINS + " ", booking.id)
    assert refused.value.field == "body"
    monkeypatch.setattr(template_sandbox, "PREVIEW_TIME_CAP", 0.25)
    assert validate_template(LONG_D_CHAINS + " ") == []  # the slow moment was not remembered against the text
