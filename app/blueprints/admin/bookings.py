"""Bookings: list, create, edit, and the booking page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.blueprints.admin import bp, series
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
from app.blueprints.admin.conversation import compose_context, conversation_context
from app.blueprints.admin.forms import (
    BookingDetailsForm,
    BookingFilterForm,
    BookingForm,
    CancelForm,
    ChangeSitterForm,
    ConfirmForm,
    OfficeTextForm,
    RescheduleForm,
    SeriesEditForm,
    cents,
    options,
    org_time_to_utc,
    utc_to_org_time,
)
from app.errors import InvalidInput
from app.extensions import db
from app.models import Booking
from app.services.audit.sentences import describe_events
from app.services.bookings import editing as booking_editing
from app.services.bookings.confirmed import on_booking_confirmed
from app.services.bookings.lifecycle import cancel_booking, change_sitter, reschedule_booking
from app.services.payments.checkout import stripe_is_configured
from app.services.queries.action_previews import (
    preview_booking_time_off,
    preview_cancel,
    preview_change_sitter,
    preview_confirm,
    preview_reschedule,
    text_outcome,
)
from app.services.queries.admin import (
    BookingFilters,
    booking_details,
    choices_for_booking_form,
    list_bookings,
)
from app.services.visits.exclusions import excluded_sitter_ids
from app.web.scoping import get_in_org_or_404
from app.web.templating import render_page_or_partial


@bp.route("/bookings")
@owner_or_staff
def bookings():
    clients, sitters = choices_for_booking_form(org().id)
    form = BookingFilterForm(request.args)
    form.sitter_id.choices = sitter_choices(sitters, "any")
    form.client_id.choices = options([(0, "any")] + [(c.id, c.name) for c in clients])
    filters = BookingFilters()
    if form.validate():
        filters = BookingFilters(date_from=form.date_from.data, date_to=form.date_to.data,
                                 status=form.status.data or None, sitter_id=form.sitter_id.data or None,
                                 client_id=form.client_id.data or None)
    page = list_bookings(org().id, org().timezone, filters, page_arg())
    return render_page_or_partial("admin/bookings.html", "admin/partials/booking_rows.html", listing=page,
                                  form=form, args=request.args.to_dict())


def _booking_form(booking: Booking | None = None) -> BookingForm:
    clients, sitters = choices_for_booking_form(org().id)
    if request.method == "GET" and booking is not None:
        form = BookingForm(obj=booking)
        form.start_at.data = utc_to_org_time(booking.start_at, org().timezone)
        form.end_at.data = utc_to_org_time(booking.end_at, org().timezone)
        form.price.data = booking.price_cents / 100
        form.sitter_id.data = booking.sitter_id or 0
    else:
        form = BookingForm()
        if request.method == "GET" and request.args.get("client_id", type=int):
            form.client_id.data = request.args.get("client_id", type=int)
    form.client_id.choices = options((c.id, f"{c.name} ({c.pet_names})" if c.pets else c.name)
                                     for c in clients)
    form.sitter_id.choices = sitter_choices(sitters, "— not assigned yet —")
    return form


def _booking_fields(form: BookingForm) -> dict:
    tz = org().timezone
    return {"client_id": form.client_id.data, "sitter_id": form.sitter_id.data or None,
            "service": form.service.data, "start_at": org_time_to_utc(form.start_at.data, tz),
            "end_at": org_time_to_utc(form.end_at.data, tz), "price_cents": cents(form.price.data),
            "notes": form.notes.data, "actor": actor()}


@bp.route("/bookings/new", methods=["GET", "POST"])
@owner_or_staff
def booking_new():
    form = _booking_form()
    if request.method == "POST" and form.repeat_days.raw_data:
        return series.new_series(form, lambda: _booking_fields(form))
    if request.method == "GET":
        return render_template("admin/booking_form.html", form=form, booking=None)

    def refill():
        return render_template("admin/booking_form.html", form=form, booking=None), form_status(form)

    def act():
        outcome = run_form(form, lambda: booking_editing.create_booking(org().id, **_booking_fields(form)))
        if not outcome.ok:
            return refill()
        flash(f"Booking #{outcome.result.id} created (pending).", "info")
        return redirect(url_for("admin.booking_detail", booking_id=outcome.result.id))

    return confirm_step(lambda: _time_off_step(form), url_for("admin.booking_new"), act, form=form, refill=refill)


def _time_off_step(form: BookingForm, booking_id: int | None = None):
    """The confirm step of a booking form: shown only when its sitter is away that day."""
    fields = _booking_fields(form)
    return preview_booking_time_off(org().id, fields["sitter_id"], fields["start_at"], fields["end_at"], booking_id)


@bp.route("/bookings/<int:booking_id>/edit", methods=["GET", "POST"])
@owner_or_staff
def booking_edit(booking_id: int):
    booking = get_in_org_or_404(Booking, booking_id)
    if booking.status != "pending":
        return _booking_page(booking)
    form = _booking_form(booking)
    if request.method == "GET":
        return render_template("admin/booking_form.html", form=form, booking=booking)

    def refill():
        return render_template("admin/booking_form.html", form=form, booking=booking), form_status(form)

    def act():
        if not run_form(form, lambda: booking_editing.update_pending_booking(booking.id,
                                                                             **_booking_fields(form))).ok:
            return refill()
        flash("Booking saved.", "info")
        return redirect(url_for("admin.booking_detail", booking_id=booking.id))

    return confirm_step(lambda: _time_off_step(form, booking.id),
                        url_for("admin.booking_edit", booking_id=booking.id), act, form=form, refill=refill)


@bp.route("/bookings/<int:booking_id>/details", methods=["POST"])
@owner_or_staff
def booking_update_details(booking_id: int):
    booking = get_in_org_or_404(Booking, booking_id)
    return _booking_form_action(booking, "details_form", lambda form: booking_editing.update_booking_details(
        booking.id, service=form.service.data, price_cents=cents(form.price.data), notes=form.notes.data,
        actor=actor()))


def _action_forms(booking: Booking, posted: str | None = None) -> dict:
    """The small forms on the booking page; only the posted one reads the request."""
    tz = org().timezone

    def build(name: str, cls, **defaults):
        return cls() if name == posted else cls(formdata=None, **defaults)

    _, sitters = choices_for_booking_form(org().id)
    forms = {
        "cancel_form": build("cancel_form", CancelForm),
        "sitter_form": build("sitter_form", ChangeSitterForm, sitter_id=booking.sitter_id or 0),
        "reschedule_form": build("reschedule_form", RescheduleForm,
                                 start_at=utc_to_org_time(booking.start_at, tz),
                                 end_at=utc_to_org_time(booking.end_at, tz)),
        "details_form": build("details_form", BookingDetailsForm, service=booking.service,
                              price=booking.price_cents / 100, notes=booking.notes),
        "series_edit_form": build("series_edit_form", SeriesEditForm,
                                  start_time=utc_to_org_time(booking.start_at, tz).time(),
                                  end_time=utc_to_org_time(booking.end_at, tz).time(),
                                  price=booking.price_cents / 100),
    }
    excluded = excluded_sitter_ids(booking.client_id)  # "don't send this sitter again"
    forms["sitter_form"].sitter_id.choices = sitter_choices([s for s in sitters if s.id not in excluded],
                                                            "— no sitter —")
    return forms


def _booking_page(booking: Booking, status: int = 200, forms: dict | None = None,
                  compose_form: OfficeTextForm | None = None):
    details = booking_details(booking)
    thread = details["thread"]
    conversation = {"senders": {}, "in_flight": False, "conversation_thread": None}
    if thread is not None:
        conversation = {**conversation_context(thread, details["messages"]),
                        **compose_context(thread, compose_form, back="booking")}
    details.update(conversation)
    return render_template("admin/booking_detail.html", booking=booking, confirm=ConfirmForm(),
                           stripe_enabled=stripe_is_configured(), **details,
                           events_described=describe_events(org().id, org().timezone, details["events"]),
                           **(forms or _action_forms(booking))), status


def booking_page_with_compose(booking: Booking, form: OfficeTextForm):
    """The booking page with a refused office text kept in its box (422)."""
    return _booking_page(booking, status=422, compose_form=form)


@bp.route("/bookings/<int:booking_id>")
@owner_or_staff
def booking_detail(booking_id: int):
    booking = get_in_org_or_404(Booking, booking_id)
    return _booking_page(booking)


@bp.route("/bookings/<int:booking_id>/confirm", methods=["POST"])
@owner_or_staff
def booking_confirm(booking_id: int):
    """Confirm by hand (or finish a confirmed booking's setup): the handler a payment calls."""
    booking = get_in_org_or_404(Booking, booking_id)
    back = url_for("admin.booking_detail", booking_id=booking.id)

    def confirm():
        if booking.status not in ("pending", "confirmed"):
            flash(f"Booking #{booking.id} is {booking.status}; it cannot be confirmed.", "error")
            return redirect(back)
        result = on_booking_confirmed(booking.id, actor=actor())
        if result.no_number:
            flash(f"Booking #{booking.id} is confirmed, but there is no number to give it a conversation without "
                  f"sharing one, so {booking.client.first_name} was not texted yet: add a number and the conversation "
                  "gets it (the confirmation goes out then).", "error")
        else:
            flash(f"Booking #{booking.id} confirmed; {text_outcome(booking.id, 'booking_confirmation')}.", "info")
        return redirect(back)

    return confirm_step(lambda: preview_confirm(booking.id), back, confirm)


def _booking_form_action(booking: Booking, form_name: str, call, preview=None, done=None):
    """Run one service from a booking-page form; errors go back to that form on the page.

    preview(form): the confirm step shown first (for what texts a client or cannot be undone), or None;
    done(result): the flash, in words, from what really happened.
    """
    forms = _action_forms(booking, posted=form_name)
    form = forms[form_name]
    back = url_for("admin.booking_detail", booking_id=booking.id)

    def refill():
        return _booking_page(booking, status=422, forms=forms)

    def act():
        outcome = run_form(form, lambda: call(form))
        if not outcome.ok:
            return refill()
        flash(done(outcome.result) if done is not None else f"Booking #{booking.id} saved.", "info")
        return redirect(back)

    return confirm_step(lambda: preview(form) if preview is not None else None, back, act, form=form,
                        refill=refill)


@bp.route("/bookings/<int:booking_id>/cancel", methods=["POST"])
@owner_or_staff
def booking_cancel(booking_id: int):
    booking = get_in_org_or_404(Booking, booking_id)
    def done(result) -> str:
        if not result.changed:
            return f"Booking #{booking.id} was already {result.status}; nothing changed."
        told = (text_outcome(booking.id, "booking_cancelled") if result.cancellation_text_queued
                else f"{booking.client.first_name} was not texted (they never got a confirmation)")
        return f"Booking #{booking.id} cancelled; {told}."

    return _booking_form_action(booking, "cancel_form",
                                lambda form: cancel_booking(booking.id, form.reason.data.strip(), actor=actor()),
                                preview=lambda form: preview_cancel(booking.id, form.reason.data.strip()),
                                done=done)


@bp.route("/bookings/<int:booking_id>/sitter", methods=["POST"])
@owner_or_staff
def booking_change_sitter(booking_id: int):
    booking = get_in_org_or_404(Booking, booking_id)
    def done(result) -> str:
        if not result.changed:
            return f"Booking #{booking.id} already has that sitter; nothing changed."
        db.session.expire_all()
        sitter = get_in_org_or_404(Booking, booking.id).sitter
        told = (text_outcome(booking.id, "sitter_changed") if result.sitter_change_text_queued
                else f"{booking.client.first_name} was not texted (no conversation yet)")
        return f"Booking #{booking.id} now has {sitter.name if sitter else 'no sitter'}; {told}."

    return _booking_form_action(booking, "sitter_form",
                                lambda form: change_sitter(booking.id, form.sitter_id.data or None, actor=actor()),
                                preview=lambda form: preview_change_sitter(booking.id, form.sitter_id.data or None),
                                done=done)


@bp.route("/bookings/<int:booking_id>/reschedule", methods=["POST"])
@owner_or_staff
def booking_reschedule(booking_id: int):
    """New times: at once when the sitter is free then; else the confirm step names the clash or time off."""
    booking = get_in_org_or_404(Booking, booking_id)

    def new_times(form):
        tz = org().timezone
        start_at, end_at = org_time_to_utc(form.start_at.data, tz), org_time_to_utc(form.end_at.data, tz)
        booking_editing.check_times(start_at, end_at, allow_past_start=start_at == booking.start_at)
        return start_at, end_at

    def preview(form):
        try:
            start_at, end_at = new_times(form)
        except InvalidInput:
            return None  # the action runs and lands the refusal on its field, nothing moved
        return preview_reschedule(booking.id, start_at, end_at)

    return _booking_form_action(booking, "reschedule_form",
                                lambda form: reschedule_booking(booking.id, *new_times(form), actor=actor()),
                                preview=preview)
