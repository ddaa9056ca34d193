"""Property tests: any template body is judged quickly, and judging or rendering it never raises
anything but a template error (deep nesting of brackets, ifs and nots; long filter chains; noise)."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from app.services.automations.templates import (
    MAX_TEXT,
    SAMPLE_CONTEXT,
    TEMPLATE_VARIABLES,
    TemplateRenderError,
    render_template_body,
    validate_template,
)
from tests.fuzz.conftest import FUZZ_SETTINGS

names = st.sampled_from([*TEMPLATE_VARIABLES, "nope", "range", "self", "cycler"])
filters = st.sampled_from(["d", "default", "upper", "lower", "trim", "title", "truncate(5)", "d('x')", "attr('a')",
                           "join", "replace('a','b')"])


@st.composite
def chains(draw):
    return "{{ " + draw(names) + "".join("|" + f for f in draw(st.lists(filters, max_size=400))) + " }}"


@st.composite
def nested(draw):
    depth = draw(st.integers(1, 400))
    opener, closer = draw(st.sampled_from([("(", ")"), ("[", "]"), ("not (", ")"), ("(not ", ")"), ("{", "}")]))
    return "{{ " + opener * depth + draw(names) + closer * depth + " }}"


@st.composite
def nested_ifs(draw):
    depth = draw(st.integers(1, 60))
    return "{% if client_first_name %}" * depth + draw(names) + "{% endif %}" * depth


@st.composite
def long_boolean(draw):
    op = draw(st.sampled_from([" or ", " and ", " ~ ", " == ", " if client_first_name else "]))
    return "{{ " + op.join(draw(st.lists(names, min_size=2, max_size=250))) + " }}"


noise = st.lists(st.sampled_from(list("{}%()[]|~.,'\"# abcx_-") + ["{{", "}}", "{%", "%}", "if ", "endif"]),
                max_size=200).map("".join)
bodies = st.one_of(chains(), nested(), nested_ifs(), long_boolean(), noise,
                   st.tuples(noise, chains(), nested()).map("".join))


@given(bodies)
@FUZZ_SETTINGS
def test_every_body_is_judged_quickly_and_never_raises(body):
    started = time.perf_counter()
    problems = validate_template(body)
    assert time.perf_counter() - started < 10, body[:80]  # loose: a loaded machine; unbounded was minutes
    assert isinstance(problems, list) and all(isinstance(p, str) and p for p in problems)
    if not problems:
        try:
            text = render_template_body(body, SAMPLE_CONTEXT)
        except TemplateRenderError:
            return
        assert len(text) <= MAX_TEXT


# What the parse-time walk refuses, sent straight to the sandbox: loops nested up to three deep
# over up to 2,000 items each, with calls, filters, lookups and arithmetic inside. Under the
# preview's time cap every one ends (done, or TemplateTimeout) shortly after the cap.
loop_bodies = st.tuples(
    st.integers(1, 3),
    st.sampled_from(["x", "{{ i|d }}", "{{ i.real }}", "{{ s[0] }}", "{{ s.upper() }}", "{{ i + 1 }}",
                     "{% if i is even %}y{% endif %}", "{{ range(3)|list }}"]),
).map(lambda t: "{% for i in range(n) %}" * t[0] + t[1] + "{% endfor %}" * t[0])


@given(loop_bodies, st.integers(0, 2000))
@FUZZ_SETTINGS
def test_the_sandbox_ends_every_loop_shortly_after_the_time_cap(body, n):
    from app.services.automations.template_sandbox import TemplateTimeout, time_cap
    from app.services.automations.templates import _env

    template = _env.from_string(body)
    started = time.perf_counter()
    try:
        with time_cap(0.1):
            template.render(n=n, s="abc")
    except TemplateTimeout:
        pass
    # Uncapped, 2,000 cubed steps take hours: 10 s (loose, for a loaded machine) still proves the cap.
    assert time.perf_counter() - started < 10, (body, n)
