"""The sitter's visit page: check in, the visit report, check out (thin views over app.services.visits)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.auth.routes import role_required
from app.blueprints.media.routes import uploaded_photos
from app.blueprints.sitter import bp
from app.errors import Conflict, InvalidInput
from app.privacy import redact_for_sitter
from app.services.media.outbound import MediaUnavailable
from app.services.visits.checks import check_in, check_out, on_my_way, parse_position
from app.services.visits.reports import submit_visit_report
from app.services.visits.states import sitter_booking_for_thread, sitter_visit_page


def _page(booking_id: int, status: int = 200, **extra):
    visit = sitter_visit_page(current_user.id, booking_id)
    return render_template("sitter/visit.html", v=visit, tz=current_user.org.timezone, **extra), status


@bp.route("/visits/<int:booking_id>")
@role_required("sitter")
def visit(booking_id: int):
    return _page(booking_id)


@bp.route("/threads/<int:thread_id>/visit")
@role_required("sitter")
def visit_for_thread(thread_id: int):
    return redirect(url_for("sitter.visit", booking_id=sitter_booking_for_thread(current_user.id, thread_id)))


def _position():
    form = request.form
    return parse_position(form.get("latitude"), form.get("longitude"), form.get("accuracy"))


def _check(booking_id: int, action):
    try:
        outcome = action(current_user.id, booking_id, _position())
    except (Conflict, InvalidInput) as exc:  # outside the allowed span, not checked in, …: say why
        return _page(booking_id, exc.status_code, error=redact_for_sitter(str(exc)))
    flash(redact_for_sitter(outcome.notice), "info")
    return redirect(url_for("sitter.visit", booking_id=booking_id))


@bp.route("/visits/<int:booking_id>/check-in", methods=["POST"])
@role_required("sitter")
def visit_check_in(booking_id: int):
    return _check(booking_id, check_in)


@bp.route("/visits/<int:booking_id>/on-my-way", methods=["POST"])
@role_required("sitter")
def visit_on_my_way(booking_id: int):
    return _check(booking_id, lambda user_id, booking_id, _position: on_my_way(user_id, booking_id))


@bp.route("/visits/<int:booking_id>/check-out", methods=["POST"])
@role_required("sitter")
def visit_check_out(booking_id: int):
    return _check(booking_id, check_out)


@bp.route("/visits/<int:booking_id>/report", methods=["POST"])
@role_required("sitter")
def visit_report(booking_id: int):
    note, ticked = request.form.get("note", ""), request.form.getlist("checklist")
    try:
        outcome = submit_visit_report(current_user.id, booking_id, note=note, checklist=ticked,
                                      photos=uploaded_photos())
    except (Conflict, InvalidInput, MediaUnavailable) as exc:
        # The note and ticks stay in the form for another try.
        return _page(booking_id, exc.status_code, report_error=redact_for_sitter(str(exc)), kept_note=note,
                     kept_checklist=ticked)
    flash(redact_for_sitter(outcome.notice), "warning" if outcome.flagged or outcome.status == "blocked" else "info")
    return redirect(url_for("sitter.visit", booking_id=booking_id, _anchor="report"))
