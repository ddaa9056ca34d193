"""Visits for owners: checklists per service, the client's "don't send this sitter again" marks and
address point, and the visit states the booking page, calendar and Today page show."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, confirm_step, org, owner_only, owner_or_staff
from app.blueprints.admin.forms import ConfirmForm
from app.errors import DomainError, InvalidInput
from app.models import Client
from app.services.queries.action_previews import preview_exclude_sitter
from app.services.queries.admin import choices_for_booking_form
from app.services.visits import exclusions as exclusion_service
from app.services.visits.checklists import checklists_by_service, set_checklist
from app.services.visits.locations import address_point, set_address_point
from app.services.visits.states import bookings_by_ids, owner_visit, visit_states
from app.web.scoping import get_in_org_or_404


def _states_for(bookings) -> dict:
    return visit_states(org(), bookings)


def _calendar_state(cal, booking_id: int):
    """A calendar's visit states, read once per page (one query for every visit shown)."""
    cache = g.setdefault("_calendar_visit_states", {})
    if id(cal) not in cache:
        ids = {v.booking_id for row in cal.rows for visits in row.days.values() for v in visits}
        cache[id(cal)] = visit_states(org(), bookings_by_ids(org().id, ids))
    return cache[id(cal)].get(booking_id)


def _client_extras(client: Client) -> dict:
    excluded = exclusion_service.excluded_sitter_ids(client.id)
    sitters = [s for s in choices_for_booking_form(org().id)[1] if s.id not in excluded]
    return {"exclusions": exclusion_service.exclusions_for_client(client.id), "exclusion_sitters": sitters,
            "address_point": address_point(client.id)}


@bp.context_processor
def _visit_helpers() -> dict:
    """For the booking page, calendar, Today page and client page (their templates include ours)."""
    return {"visit_of": owner_visit, "visit_states_for": _states_for, "calendar_visit_state": _calendar_state,
            "client_visit_extras": _client_extras}


@bp.route("/clients/<int:client_id>/exclusions", methods=["POST"])
@owner_only
def client_exclude_sitter(client_id: int):
    """Confirm step first: it lists the pair's upcoming bookings (each will need a new sitter)."""
    client = get_in_org_or_404(Client, client_id)
    back = url_for("admin.client_detail", client_id=client.id, _anchor="visits")
    sitter_id = request.form.get("sitter_id", type=int) or 0

    def mark():
        try:
            outcome = exclusion_service.exclude_sitter(org().id, client.id, sitter_id,
                                                       reason=request.form.get("reason", ""),
                                                       user_id=current_user.id, actor=actor())
        except DomainError as exc:
            flash(str(exc), "error")
            return redirect(back)
        flagged = len(outcome.flagged_booking_ids)
        if not outcome.created:
            flash(f"{outcome.sitter_name} was already marked for {client.name}.", "info")
        elif flagged:
            flash(f"{outcome.sitter_name} will not be sent to {client.name} again. {flagged} upcoming "
                  f"booking{'s need' if flagged != 1 else ' needs'} a new sitter (see Alerts).", "warning")
        else:
            flash(f"{outcome.sitter_name} will not be sent to {client.name} again.", "info")
        return redirect(back)

    return confirm_step(lambda: preview_exclude_sitter(org().id, client.id, sitter_id), back, mark)


@bp.route("/clients/<int:client_id>/exclusions/<int:exclusion_id>/remove", methods=["POST"])
@owner_only
def client_exclusion_remove(client_id: int, exclusion_id: int):
    client = get_in_org_or_404(Client, client_id)
    if ConfirmForm().validate_on_submit():
        exclusion_service.remove_exclusion(org().id, client.id, exclusion_id, actor=actor())
        flash("Mark removed: that sitter can be assigned to this client again, and their upcoming "
              "bookings with them no longer need a new sitter.", "info")
    return redirect(url_for("admin.client_detail", client_id=client.id, _anchor="visits"))


@bp.route("/clients/<int:client_id>/address-point", methods=["POST"])
@owner_or_staff
def client_address_point(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    if ConfirmForm().validate_on_submit():
        try:
            saved = set_address_point(org().id, client.id, request.form.get("location", ""), actor=actor())
        except InvalidInput as exc:
            flash(str(exc), "error")
        else:
            flash("Address location saved: check-ins show the sitter's distance from it." if saved
                  else "Address location removed.", "info")
    return redirect(url_for("admin.client_detail", client_id=client.id, _anchor="visits"))


@bp.route("/visits/checklists", methods=["GET", "POST"])
@owner_only
def visit_checklists():
    error, status = None, 200
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        service = request.form.get("service", "")
        try:
            items = set_checklist(org().id, service, request.form.get("items", ""), actor=actor())
        except InvalidInput as exc:
            error, status = (service, str(exc)), 422
        else:
            flash(f"Checklist for {service.strip()} saved ({len(items)} item{'s' if len(items) != 1 else ''}).",
                  "info")
            return redirect(url_for("admin.visit_checklists"))
    return render_template("admin/visit_checklists.html", checklists=checklists_by_service(org().id),
                           form=ConfirmForm(), error=error), status
