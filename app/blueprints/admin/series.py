"""Recurring visits: a new booking with a repeat rule (previewed, then created as a series), and a
series cancelled or given to another sitter from one occurrence onwards."""

from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, render_template, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, confirm_step, org, owner_or_staff, run_form, sitter_choices
from app.blueprints.admin.forms import BookingForm, CancelForm, ChangeSitterForm, SeriesEditForm, cents
from app.errors import InvalidInput
from app.models import Booking
from app.services.bookings.series import (
    RepeatRule,
    cancel_series_from,
    change_sitter_from,
    create_series,
    edit_series_from,
    plan_series,
    plan_series_edit,
)
from app.services.queries.action_previews import text_outcome
from app.services.queries.admin import choices_for_booking_form
from app.services.queries.series_previews import (
    preview_cancel_series,
    preview_change_sitter_series,
    preview_edit_series,
    preview_new_series,
)
from app.web.scoping import get_in_org_or_404


def _flash_errors(form) -> None:
    """A series form lives in a fold of the booking page: its refusals come back as flashes."""
    for error in [*form.form_errors, *[e for errs in form.errors.values() for e in errs]]:
        flash(error, "error")


def repeat_rule(form: BookingForm) -> RepeatRule:
    return RepeatRule(days=tuple(form.repeat_days.data or ()), every=form.repeat_every.data or 1,
                      until=form.repeat_until.data, count=form.repeat_count.data)


def wants_repeat(form: BookingForm) -> bool:
    return bool(form.repeat_days.data)


def new_series(form: BookingForm, fields_of: Callable[[], dict]):
    """The new-booking POST with a repeat rule: the occurrences (and clashes) first, then all of them at once.

    fields_of() reads the booking fields once the form has checked out (the confirm step checks it first).
    """
    tz = org().timezone

    def refill():
        return render_template("admin/booking_form.html", form=form, booking=None), 422

    def preview():
        fields = fields_of()
        people = {k: fields[k] for k in ("client_id", "sitter_id", "start_at", "end_at", "price_cents")}
        try:
            planned = plan_series(org().id, tz=tz, rule=repeat_rule(form), **people)
        except InvalidInput:
            return None  # the action runs and lands the refusal on the form, nothing created
        return preview_new_series(org().id, fields["client_id"], fields["sitter_id"], planned)

    def act():
        outcome = run_form(form, lambda: create_series(org().id, tz=tz, rule=repeat_rule(form), **fields_of()))
        if not outcome.ok:
            return refill()
        ids = outcome.result.booking_ids
        flash(f"{len(ids)} bookings created (pending), #{ids[0]} to #{ids[-1]}; each is confirmed and paid on "
              "its own.", "info")
        return redirect(url_for("admin.booking_detail", booking_id=ids[0]))

    return confirm_step(preview, url_for("admin.booking_new"), act, form=form, refill=refill)


@bp.route("/bookings/<int:booking_id>/series/cancel", methods=["POST"])
@owner_or_staff
def series_cancel(booking_id: int):
    booking = get_in_org_or_404(Booking, booking_id)
    form = CancelForm()
    back = url_for("admin.booking_detail", booking_id=booking.id)

    def act():
        outcome = run_form(form, lambda: cancel_series_from(booking.id, form.reason.data.strip(), actor=actor()))
        if not outcome.ok:
            _flash_errors(form)
            return redirect(back)
        done = [r for r in outcome.result if r.changed]
        texted = [r for r in done if r.cancellation_text_queued]
        told = "; ".join(f"#{r.booking_id}: {text_outcome(r.booking_id, 'booking_cancelled')}" for r in texted)
        flash(f"{len(done)} bookings cancelled from #{booking.id} on"
              + (f"; {told}." if told else f"; {booking.client.first_name} was not texted (no confirmations)."),
              "info")
        return redirect(back)

    def refill():
        flash("Say why the visits are cancelled.", "error")
        return redirect(back)

    return confirm_step(lambda: preview_cancel_series(booking.id, form.reason.data.strip()), back, act, form=form,
                        refill=refill)


@bp.route("/bookings/<int:booking_id>/series/sitter", methods=["POST"])
@owner_or_staff
def series_change_sitter(booking_id: int):
    booking = get_in_org_or_404(Booking, booking_id)
    form = ChangeSitterForm()
    _, sitters = choices_for_booking_form(org().id)
    form.sitter_id.choices = sitter_choices(sitters, "— no sitter —")
    back = url_for("admin.booking_detail", booking_id=booking.id)

    def act():
        outcome = run_form(form, lambda: change_sitter_from(booking.id, form.sitter_id.data or None,
                                                            actor=actor()))
        if not outcome.ok:
            _flash_errors(form)
            return redirect(back)
        done = [r for r in outcome.result if r.changed]
        texted = [r for r in done if r.sitter_change_text_queued]
        told = "; ".join(f"#{r.booking_id}: {text_outcome(r.booking_id, 'sitter_changed')}" for r in texted)
        flash(f"{len(done)} bookings from #{booking.id} on have a new sitter"
              + (f"; {told}." if told else "; nobody was texted (none was confirmed)."), "info")
        return redirect(back)

    def refill():
        flash("Choose a sitter.", "error")
        return redirect(back)

    return confirm_step(lambda: preview_change_sitter_series(booking.id, form.sitter_id.data or None), back, act,
                        form=form, refill=refill)


@bp.route("/bookings/<int:booking_id>/series/edit", methods=["POST"])
@owner_or_staff
def series_edit(booking_id: int):
    """New times of day and price for this occurrence and every later one (see plan_series_edit)."""
    booking = get_in_org_or_404(Booking, booking_id)
    form = SeriesEditForm()
    back = url_for("admin.booking_detail", booking_id=booking.id)

    def fields() -> dict:
        return {"start_time": form.start_time.data, "end_time": form.end_time.data,
                "price_cents": cents(form.price.data), "tz": org().timezone}

    def preview():
        try:
            plan = plan_series_edit(booking.id, **fields())
        except InvalidInput:
            return None  # the action runs and flashes the refusal, nothing changed
        return preview_edit_series(booking.id, plan)

    def act():
        outcome = run_form(form, lambda: edit_series_from(booking.id, actor=actor(), **fields()))
        if not outcome.ok:
            _flash_errors(form)
            return redirect(back)
        changed = [r for r in outcome.result if r.times_changed or r.price_changed]
        if not changed:
            flash(f"Nothing changed from #{booking.id} on.", "info")
        else:
            flash(f"{len(changed)} bookings from #{booking.id} on changed ("
                  + ", ".join(f"#{r.booking_id}" for r in changed)
                  + f"); {booking.client.first_name} was not texted about it.", "info")
        return redirect(back)

    def refill():
        _flash_errors(form)
        return redirect(back)

    return confirm_step(preview, back, act, form=form, refill=refill)
