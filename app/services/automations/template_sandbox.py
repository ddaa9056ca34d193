"""A Jinja sandbox whose work stops at a deadline (previews and trial renders).

The parse-time bounds in app.services.automations.templates (node count, depth, filter chains, no
loops or calls) keep an accepted template cheap; this is the wall behind them for the renders a
person waits on in a web request: every call, attribute or item lookup, operator, filter, test and
step of `range` checks the deadline set by `time_cap`, and past it the render stops with
TemplateTimeout (a TemplateError: the caller answers 422 with the reason). Outside `time_cap`
(a send in a job) nothing is checked.

The deadline is the render's own work: past the wall-clock deadline (a cheap check on every step)
the render stops only once its thread has also spent the cap in CPU time, so a loaded machine
(another process on the core, another request holding the GIL) never refuses a template that is
cheap to render; a runaway loop spends CPU and is stopped just after the cap.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from jinja2 import TemplateRuntimeError
from jinja2.sandbox import SandboxedEnvironment

PREVIEW_TIME_CAP = 0.25  # seconds of the render's own work for one preview or trial render

# (wall-clock deadline, the thread's CPU time at the start, the cap in seconds)
_deadline: ContextVar[tuple[float, float, float] | None] = ContextVar("pawline_template_deadline", default=None)


class TemplateTimeout(TemplateRuntimeError):
    """The render ran past its time cap."""


@contextmanager
def time_cap(seconds: float | None = None) -> Iterator[None]:
    """Renders inside the block stop with TemplateTimeout once they have worked `seconds` (PREVIEW_TIME_CAP)."""
    cap = PREVIEW_TIME_CAP if seconds is None else seconds
    token = _deadline.set((time.monotonic() + cap, time.thread_time(), cap))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_deadline() -> None:
    deadline = _deadline.get()
    if deadline is None or time.monotonic() <= deadline[0]:
        return
    _, cpu_started, cap = deadline
    if time.thread_time() - cpu_started > cap:
        raise TemplateTimeout("The template took too long to render (over "
                              f"{int(PREVIEW_TIME_CAP * 1000)} ms); make it simpler.")


def _checked(function):
    # wraps() copies __dict__, so Jinja's pass_context/pass_eval_context marks stay on the wrapper.
    @wraps(function)
    def run(*args, **kwargs):
        check_deadline()
        return function(*args, **kwargs)

    return run


class DeadlineSandbox(SandboxedEnvironment):
    """SandboxedEnvironment with a deadline check in every hook a render goes through."""

    # Arithmetic goes through call_binop/call_unop (the parse-time walk refuses it anyway).
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def __init__(self, **options):
        super().__init__(**options)
        self.filters = {name: _checked(f) for name, f in self.filters.items()}
        self.tests = {name: _checked(t) for name, t in self.tests.items()}
        safe_range = self.globals["range"]

        def checked_range(*args):
            for item in safe_range(*args):
                check_deadline()
                yield item

        self.globals["range"] = checked_range

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        check_deadline()
        return super().call(__context, __obj, *args, **kwargs)

    def getattr(self, obj, attribute):
        check_deadline()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        check_deadline()
        return super().getitem(obj, argument)

    def call_binop(self, context, operator, left, right):
        check_deadline()
        return super().call_binop(context, operator, left, right)

    def call_unop(self, context, operator, arg):
        check_deadline()
        return super().call_unop(context, operator, arg)
