"""What every admin view shares: who may see it, the acting user, paging args, form handling,
and the confirm step of every action that texts a client or cannot be undone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from app.blueprints.admin.forms import ConfirmForm, apply_domain_error, options
from app.blueprints.auth.routes import role_required
from app.errors import DomainError, InvalidInput
from app.services.queries.action_previews import ActionPreview
from app.web.input_guard import bounded_int_arg

owner_or_staff = role_required("owner", "staff")
owner_only = role_required("owner")
# Far past any real listing; keeps OFFSET inside the database's integer range.
MAX_PAGE = 100_000


def actor() -> str:
    return f"user:{current_user.id}"


def org():
    return current_user.org


def page_arg() -> int:
    return bounded_int_arg(request.args.get("page"), default=1, maximum=MAX_PAGE)


def sitter_choices(sitters, empty_label: str = "— none —"):
    return options([(0, empty_label)] + [(s.id, s.name) for s in sitters])


@dataclass
class FormOutcome:
    ok: bool
    result: Any = None


def run_form(form: FlaskForm, action: Callable[[], Any]) -> FormOutcome:
    """Call the service when the form is valid; a refusal lands on the form (InvalidInput at its field)."""
    if not form.validate_on_submit():
        return FormOutcome(False)
    try:
        return FormOutcome(True, action())
    except InvalidInput as exc:
        apply_domain_error(form, exc)
    except DomainError as exc:
        form.form_errors.append(str(exc))
    return FormOutcome(False)


def form_status(form: FlaskForm) -> int:
    """422 when a posted form comes back with errors, 200 for a fresh one."""
    return 422 if form.is_submitted() else 200


def confirm_step(preview: Callable[[], ActionPreview | None], back: str, act: Callable[[], ResponseReturnValue],
                 form: FlaskForm | None = None,
                 refill: Callable[[], ResponseReturnValue] | None = None) -> ResponseReturnValue:
    """Every confirm step, one way: check the form, show what will happen, and act only on the yes.

    - The form (a bare ConfirmForm: the CSRF token) does not check out: `refill()`, the page again
      with its errors, or else straight back to `back`.
    - The first POST renders `preview()` with admin/confirm.html; a preview of None means there is
      nothing to confirm (texts turned back on, the same sitter), so the action runs at once.
    - The confirmed POST (the same fields plus confirmed=1) runs `act()`: it calls the service and
      answers, from the result's typed fields (a flash and a redirect, mostly).
    """
    form = form if form is not None else ConfirmForm()
    if not form.validate_on_submit():
        return refill() if refill is not None else redirect(back)
    if not _is_confirmed():
        step = preview()
        if step is not None:
            return _confirm_page(step, back)
    return act()


def _is_confirmed() -> bool:
    """The person has seen the confirm step and said yes (its form carries confirmed=1)."""
    return request.form.get("confirmed") == "1"


def _confirm_page(preview: ActionPreview, back: str):
    """What will happen, in words, and the same POST again with confirmed=1.

    Server-rendered (no JavaScript confirm()): the posted fields ride along as hidden inputs.
    A refused preview shows why, with no button (409).
    """
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed")]
    return render_template("admin/confirm.html", preview=preview, action=request.path, fields=fields,
                           back=back), 409 if preview.refused else 200
