"""What every admin view shares: who may see it, the acting user, paging args, form handling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm

from app.blueprints.admin.forms import apply_domain_error, options
from app.blueprints.auth.routes import role_required
from app.errors import DomainError, InvalidInput
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


def is_confirmed() -> bool:
    """The person has seen the confirm step and said yes (its form carries confirmed=1)."""
    return request.form.get("confirmed") == "1"


def confirm_page(preview, back: str):
    """The confirm step: what will happen, in words, and the same POST again with confirmed=1.

    Server-rendered (no JavaScript confirm()): the posted fields ride along as hidden inputs.
    A refused preview shows why, with no button.
    """
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed")]
    return render_template("admin/confirm.html", preview=preview, action=request.path, fields=fields,
                           back=back), 409 if preview.refused else 200
