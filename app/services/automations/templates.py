"""Automation texts: default templates, per-org overrides, sandboxed rendering.

Variables a template may use (all plain strings, times in the org's timezone):

    client_first_name   "Alex"
    pet_names           "Mochi and Tofu"
    sitter_first_name   "Sasha" ("your sitter" when none is assigned yet)
    service             "Drop-in visit"
    start_date          "Thu, Nov 26"
    start_time          "9:00 AM"
    end_date            "Thu, Nov 26"
    end_time            "10:00 AM"
    business_name       the org's name

A template is text plus those variables, a few filters (ALLOWED_FILTERS) and simple
`{% if %}` / `{% elif %}` / `{% else %}`. It is checked when saved by walking Jinja's
parsed tree: no loops, include, import, extends, macros, call blocks, `set`, function
or method calls, attribute access or arithmetic, so rendering one takes time in
proportion to its own length and can never hold a web worker (the preview included).
A trial render with SAMPLE_CONTEXT must fit MAX_TEXT; every send checks the real text
against MAX_TEXT again.

Rendering uses Jinja's SandboxedEnvironment with StrictUndefined as a second wall: a
template cannot reach Python internals, and an unknown variable is an error rather
than an empty gap in a text a client receives. Previews and the trial render run under a
time cap (template_sandbox.time_cap: 250 ms of the render's own CPU time) as a third: past it,
a 422 says why.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from hashlib import sha256
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, nodes
from sqlalchemy import select

from app.errors import DomainError, InvalidInput, NotFound
from app.extensions import db
from app.models import AUTOMATION_KINDS, AutomationTemplate, Booking, Org
from app.services.audit.events import record_event
from app.services.automations.template_sandbox import DeadlineSandbox, TemplateTimeout, time_cap

TEMPLATE_VARIABLES = {
    "client_first_name": "The client's first name",
    "pet_names": "The client's pets, e.g. \"Mochi and Tofu\"",
    "sitter_first_name": "The assigned sitter's first name (\"your sitter\" if none yet)",
    "service": "The booked service, e.g. \"Drop-in visit\"",
    "start_date": "Start date in the business's timezone, e.g. \"Thu, Nov 26\"",
    "start_time": "Start time in the business's timezone, e.g. \"9:00 AM\"",
    "end_date": "End date in the business's timezone",
    "end_time": "End time in the business's timezone",
    "business_name": "The business's name",
}

DEFAULT_TEMPLATES = {
    "booking_confirmation": (
        "Hi {{ client_first_name }}! Your {{ service }} for {{ pet_names }} with {{ sitter_first_name }} "
        "is confirmed for {{ start_date }} at {{ start_time }}. Reply to this number any time. "
        "- {{ business_name }}"
    ),
    "night_before_reminder": (
        "Reminder from {{ business_name }}: {{ sitter_first_name }} will see {{ pet_names }} tomorrow, "
        "{{ start_date }}, {{ start_time }}-{{ end_time }}."
    ),
    "booking_cancelled": (
        "Hi {{ client_first_name }}, your {{ service }} for {{ pet_names }} on {{ start_date }} at "
        "{{ start_time }} has been cancelled. Questions? Just reply. - {{ business_name }}"
    ),
    "visit_followup": (
        "Thanks for choosing {{ business_name }}, {{ client_first_name }}! We hope {{ pet_names }} "
        "enjoyed the visit. Reply any time with feedback."
    ),
    "sitter_changed": (
        "Hi {{ client_first_name }}, {{ sitter_first_name }} will now look after {{ pet_names }} on "
        "{{ start_date }} at {{ start_time }}. Please text this number from now on. - {{ business_name }}"
    ),
}
MAX_BODY = 1000  # characters of template source
# The cost of parsing, compiling and rendering grows with these (a chain of filters compiles in
# time that grows with the square of its length; deep nesting recursed until Python gave up),
# so each is bounded before anything is compiled. Generous for a text: see DEFAULT_TEMPLATES.
MAX_DEPTH = 12  # nesting of the parsed tree below an output or an {% if %}
MAX_NESTING = 8  # brackets inside one another in the source text, checked before parsing
MAX_FILTER_CHAIN = 6  # filters applied one after another to one value
MAX_NODES = 400  # nodes of the whole parsed tree
MAX_TEXT = 1600  # characters of a rendered text: Twilio's limit for one message

# Filters that only reshape a short string (none grows it by more than its arguments).
ALLOWED_FILTERS = frozenset({"upper", "lower", "title", "capitalize", "trim", "default", "d", "truncate"})
ALLOWED_TESTS = frozenset({"defined", "undefined", "none", "string", "eq", "ne"})

# Plausible, generous values for the trial render at save time.
SAMPLE_CONTEXT = {
    "client_first_name": "Alexandra",
    "pet_names": "Mochi, Tofu and Biscuit",
    "sitter_first_name": "Sasha",
    "service": "Overnight stay with evening walk",
    "start_date": "Wed, Nov 25",
    "start_time": "10:30 AM",
    "end_date": "Thu, Nov 26",
    "end_time": "10:30 AM",
    "business_name": "Happy Tails Pet Sitting",
}

# What a text template needs from the parsed tree; anything else is refused by name.
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const, nodes.Filter,
                  nodes.Test, nodes.If, nodes.Compare, nodes.Operand, nodes.Not, nodes.And, nodes.Or,
                  nodes.CondExpr, nodes.Concat, nodes.Keyword)
_REFUSED_NAMES = [
    (nodes.For, "loops ({% for %})"),
    (nodes.Include, "{% include %}"),
    ((nodes.Import, nodes.FromImport), "{% import %}"),
    (nodes.Extends, "{% extends %}"),
    (nodes.Macro, "macros ({% macro %})"),
    (nodes.CallBlock, "call blocks ({% call %})"),
    ((nodes.Assign, nodes.AssignBlock), "{% set %}"),
    (nodes.Block, "{% block %}"),
    (nodes.Call, "function calls such as range() or .format()"),
    ((nodes.Getattr, nodes.Getitem, nodes.Slice), "attribute or item access (a.b, a[0])"),
    ((nodes.BinExpr, nodes.UnaryExpr), "arithmetic"),
]

_env = DeadlineSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class TemplateRenderError(DomainError):
    """A template could not produce a text; the run fails visibly and nothing is sent."""


def _refused_construct(node: nodes.Node) -> str:
    for types, name in _REFUSED_NAMES:
        if isinstance(node, types):
            return name
    return f"{type(node).__name__} expressions"


def _bracket_depth(body: str) -> int:
    depth = deepest = 0
    for char in body:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def _filter_chain(node: nodes.Node) -> int:
    chain = 0
    while isinstance(node, (nodes.Filter, nodes.Test)):
        chain, node = chain + 1, node.node
    return chain


def _tree_problems(tree: nodes.Template) -> list[str]:
    """Everything in the parsed template that a text template may not use, and the bounds on its size."""
    problems: list[str] = []
    unknown: set[str] = set()
    count = 0

    def walk(node: nodes.Node, depth: int = 0) -> None:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            return
        if depth > MAX_DEPTH:
            problems.append(f"Nested too deeply (at most {MAX_DEPTH} levels).")
            return
        if _filter_chain(node) > MAX_FILTER_CHAIN:
            problems.append(f"Too many filters in a row (at most {MAX_FILTER_CHAIN}).")
            return
        if not isinstance(node, _ALLOWED_NODES):
            problems.append(f"Not allowed in a text template: {_refused_construct(node)}.")
            return
        if isinstance(node, nodes.Name) and node.name not in TEMPLATE_VARIABLES:
            unknown.add(node.name)
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            problems.append(f"Filter not allowed: {node.name} (allowed: {', '.join(sorted(ALLOWED_FILTERS))}).")
        if isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            problems.append(f"Test not allowed: {node.name}.")
        if isinstance(node, (nodes.Filter, nodes.Test)) and (node.dyn_args or node.dyn_kwargs):
            problems.append(f"Not allowed in a text template: *args or **kwargs on {node.name}.")
        for child in node.iter_child_nodes():
            walk(child, depth + 1)

    walk(tree)
    if count > MAX_NODES:
        problems.append(f"The template is too complex (more than {MAX_NODES} parts).")
    problems += [f"Unknown variable: {name} (known: {', '.join(TEMPLATE_VARIABLES)})" for name in sorted(unknown)]
    return list(dict.fromkeys(problems))  # one line per kind of problem, in order


def validate_template(body: str) -> list[str]:
    """Problems that stop this template from being saved or sent; an empty list means it is usable.

    Bounds the source (length, bracket nesting) before parsing, parses and walks the template
    (never runs it), then renders it once with SAMPLE_CONTEXT to check the length of the text
    it makes. Any exception from parsing or compiling (RecursionError included) is a problem
    with its reason, never an error page.
    """
    if not isinstance(body, str) or not body.strip():
        return ["The text is empty."]
    try:
        return list(_validated(body))
    except TemplateTimeout as exc:  # not cached: a slow moment of the machine is not the text's fault
        return [str(exc)]


@lru_cache(maxsize=512)
def _validated(body: str) -> tuple[str, ...]:
    """validate_template for one text, computed once per process (a pure function of the text)."""
    if len(body) > MAX_BODY:
        # Nothing more is parsed: the length alone decides, and a huge text costs nothing more.
        return (f"The text is too long ({len(body)} characters; at most {MAX_BODY}).",)
    if _bracket_depth(body) > MAX_NESTING:
        return (f"Brackets nested too deeply (at most {MAX_NESTING} inside one another).",)
    try:
        tree = _env.parse(body)
    except TemplateSyntaxError as exc:
        return (f"Syntax error on line {exc.lineno}: {exc.message}",)
    except RecursionError:
        return ("The template is nested too deeply to read.",)
    except Exception as exc:  # noqa: BLE001 - whatever the parser raises is the template's fault
        return (f"The template could not be read: {type(exc).__name__}.",)
    problems = _tree_problems(tree)
    if problems:
        return tuple(problems)
    try:
        with time_cap():
            sample = _compiled(body).render(**SAMPLE_CONTEXT).strip()
    except TemplateTimeout:
        raise
    except TemplateError as exc:
        return (f"Template failed to render: {exc}",)
    except RecursionError:
        return ("The template is nested too deeply to run.",)
    except Exception as exc:  # noqa: BLE001 - a compile or render failure is the template's
        return (f"Template failed to render: {type(exc).__name__}.",)
    if len(sample) > MAX_TEXT:
        return (f"The text it makes is too long ({len(sample)} characters with sample details; "
                f"at most {MAX_TEXT}).",)
    return ()


@lru_cache(maxsize=512)
def _compiled_by_hash(digest: str, body: str) -> Template:
    return _env.from_string(body)


def _compiled(body: str) -> Template:
    """A saved template is compiled once per process and reused by every send (keyed by its text's
    hash): compiling is the costly part, and the same text always compiles the same."""
    return _compiled_by_hash(sha256(body.encode()).hexdigest(), body)


def template_for(org_id: int, kind: str) -> tuple[str, bool]:
    """(body, enabled) for one kind: the org's override, else the default."""
    if kind not in AUTOMATION_KINDS:
        raise InvalidInput(f"Unknown automation kind {kind!r}", field="kind")
    row = db.session.execute(
        select(AutomationTemplate.body, AutomationTemplate.enabled)
        .where(AutomationTemplate.org_id == org_id, AutomationTemplate.kind == kind)
    ).first()
    return saved_or_default(kind, row.body if row else None, row.enabled if row else True)


def saved_or_default(kind: str, body: str | None, enabled: bool) -> tuple[str, bool]:
    """(body, enabled): the org's saved text (`body`, None when it has none), else the default."""
    return (DEFAULT_TEMPLATES[kind], True) if body is None else (body, enabled)


def _date(local: datetime) -> str:
    return f"{local:%a}, {local:%b} {local.day}"


def _time(local: datetime) -> str:
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def template_context(booking: Booking, org: Org) -> dict[str, str]:
    return text_context(client_first_name=booking.client.first_name, pet_names=booking.client.pet_names,
                        sitter_first_name=booking.sitter.first_name if booking.sitter else None,
                        service=booking.service, start_at=booking.start_at, end_at=booking.end_at,
                        org_timezone=org.timezone, business_name=org.name)


def text_context(*, client_first_name: str, pet_names: str, sitter_first_name: str | None, service: str,
                 start_at: datetime, end_at: datetime, org_timezone: str, business_name: str) -> dict[str, str]:
    """The variables of a text (TEMPLATE_VARIABLES) from plain values: times in the org's zone."""
    zone = ZoneInfo(org_timezone)
    start, end = start_at.astimezone(zone), end_at.astimezone(zone)
    return {
        "client_first_name": client_first_name,
        "pet_names": pet_names or "your pets",
        "sitter_first_name": "your sitter" if sitter_first_name is None else sitter_first_name,
        "service": service,
        "start_date": _date(start),
        "start_time": _time(start),
        "end_date": _date(end),
        "end_time": _time(end),
        "business_name": business_name,
    }


def render_template_body(body: str, context: dict[str, str]) -> str:
    """Render one template; any failure is a TemplateRenderError saying why."""
    errors = validate_template(body)
    if errors:
        raise TemplateRenderError("; ".join(errors))
    try:
        text = _compiled(body).render(**context).strip()
    except TemplateError as exc:
        raise TemplateRenderError(f"Template failed to render: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - validated above; anything else is still the template's
        raise TemplateRenderError(f"Template failed to render: {type(exc).__name__}") from exc
    if not text:
        raise TemplateRenderError("Template rendered an empty text")
    if len(text) > MAX_TEXT:
        raise TemplateRenderError(f"The text is {len(text)} characters; at most {MAX_TEXT} can be sent")
    return text


def render_for_booking(booking: Booking, kind: str) -> str:
    org = db.session.get(Org, booking.org_id)
    body, _enabled = template_for(booking.org_id, kind)
    return render_template_body(body, template_context(booking, org))


def preview_template(org_id: int, kind: str, body: str, booking_id: int) -> str:
    """What `body` would send for this booking; InvalidInput lists the problems."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.org_id != org_id:
        raise NotFound("Booking not found")
    if kind not in AUTOMATION_KINDS:
        raise InvalidInput(f"Unknown automation kind {kind!r}", field="kind")
    errors = validate_template(body)
    if errors:
        raise InvalidInput(" ".join(errors), field="body")
    try:
        with time_cap():  # a person waits on this request
            return render_template_body(body, template_context(booking, db.session.get(Org, org_id)))
    except TemplateRenderError as exc:
        raise InvalidInput(str(exc), field="body") from exc


def save_template(org_id: int, kind: str, body: str, enabled: bool = True, actor: str = "system") -> None:
    """Store the org's text for one kind (validated first); InvalidInput lists the problems."""
    if kind not in AUTOMATION_KINDS:
        raise InvalidInput(f"Unknown automation kind {kind!r}", field="kind")
    errors = validate_template(body)
    if errors:
        raise InvalidInput(" ".join(errors), field="body")
    row = db.session.scalar(select(AutomationTemplate).where(AutomationTemplate.org_id == org_id,
                                                             AutomationTemplate.kind == kind))
    if row is None:
        row = AutomationTemplate(org_id=org_id, kind=kind)
        db.session.add(row)
    row.body, row.enabled = body.strip(), enabled
    record_event(org_id, "automation.template_saved", actor=actor, automation=kind, enabled=enabled)
    db.session.commit()


def reset_template(org_id: int, kind: str, actor: str = "system") -> None:
    """Back to the shipped default text (and enabled)."""
    row = db.session.scalar(select(AutomationTemplate).where(AutomationTemplate.org_id == org_id,
                                                             AutomationTemplate.kind == kind))
    if row is not None:
        db.session.delete(row)
        record_event(org_id, "automation.template_reset", actor=actor, automation=kind)
    db.session.commit()
