"""Masking numbers: add, retire, see how they are used."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import (
    actor,
    confirm_step,
    form_status,
    org,
    owner_or_staff,
    page_arg,
    run_form,
    sitter_choices,
)
from app.blueprints.admin.forms import ConfirmForm, NumberForm
from app.errors import Conflict
from app.models import MessageNumber
from app.services.numbers.admin import add_number, retire_number
from app.services.numbers.moves import move_open_threads
from app.services.numbers.pressure import SIZING_RULE, pool_pressure, waiting_threads
from app.services.people.phones import national_format
from app.services.queries.action_previews import preview_move_threads, preview_retire_number
from app.services.queries.admin import (
    choices_for_booking_form,
    list_numbers,
    open_threads_on_number,
)
from app.web.scoping import get_in_org_or_404


def _number_form() -> NumberForm:
    form = NumberForm()
    form.sitter_id.choices = sitter_choices(choices_for_booking_form(org().id)[1])
    return form


@bp.route("/numbers", methods=["GET", "POST"])
@owner_or_staff
def numbers():
    form = _number_form()
    outcome = run_form(form, lambda: add_number(org().id, e164=form.e164.data, kind=form.kind.data,
                                                sitter_id=form.sitter_id.data or None, label=form.label.data,
                                                actor=actor()))
    if outcome.ok:
        flash(f"Number {national_format(outcome.result.e164)} added.", "info")
        return redirect(url_for("admin.numbers"))
    return render_template("admin/numbers.html", listing=list_numbers(org().id, page_arg()), form=form,
                           confirm=ConfirmForm(), pressure=pool_pressure(org().id), waiting=waiting_threads(org().id),
                           sizing_rule=SIZING_RULE), form_status(form)


@bp.route("/numbers/<int:number_id>")
@owner_or_staff
def number_detail(number_id: int):
    number = get_in_org_or_404(MessageNumber, number_id)
    return render_template("admin/number_detail.html", number=number,
                           open_threads=open_threads_on_number(number.id), confirm=ConfirmForm())


@bp.route("/numbers/<int:number_id>/retire", methods=["POST"])
@owner_or_staff
def number_retire(number_id: int):
    number = get_in_org_or_404(MessageNumber, number_id)
    back = url_for("admin.number_detail", number_id=number.id)

    def retire():
        try:
            retire_number(number.id, actor=actor())
        except Conflict as exc:
            flash(str(exc), "error")
            return render_template("admin/number_detail.html", number=number,
                                   open_threads=open_threads_on_number(number.id), confirm=ConfirmForm(),
                                   retire_error=str(exc)), 409
        flash(f"Number {national_format(number.e164)} retired: no booking gets it from now on.", "info")
        return redirect(back)

    return confirm_step(lambda: preview_retire_number(number.id), back, retire)


@bp.route("/numbers/<int:number_id>/move-threads", methods=["POST"])
@owner_or_staff
def number_move_threads(number_id: int):
    """Move every open conversation off this number (each client told from their new number)."""
    number = get_in_org_or_404(MessageNumber, number_id)
    back = url_for("admin.number_detail", number_id=number.id)

    def move():
        result = move_open_threads(number.id, actor=actor())
        moved = len(result.moved)
        text = (f"{moved} conversation(s) moved to new numbers; {result.told} client(s) will be told by text "
                "from the new number.")
        if moved - result.told:
            text += f" {moved - result.told} replied STOP and were not texted."
        if result.stuck:
            flash(f"{text} {len(result.stuck)} could not move: there is no other number free. Add one and "
                  "move again.", "error")
        else:
            flash(text + " The number can now be retired.", "info")
        return redirect(back)

    return confirm_step(lambda: preview_move_threads(number.id), back, move)
