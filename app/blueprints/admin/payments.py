"""Owner and staff actions on a booking's payment: a Stripe link, or "paid in person"."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, request, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, confirm_step, owner_or_staff
from app.errors import DomainError
from app.models import Booking
from app.services.payments.checkout import create_payment_link, mark_paid_in_person
from app.services.queries.action_previews import preview_paid_in_person, preview_payment_link, text_outcome
from app.web.scoping import get_in_org_or_404


@bp.route("/bookings/<int:booking_id>/payment-link", methods=["POST"])
@owner_or_staff
def send_payment_link(booking_id: int):
    get_in_org_or_404(Booking, booking_id)

    def send():
        try:
            link = create_payment_link(booking_id, actor=actor())
        except DomainError as exc:
            flash(str(exc), "error")
        else:
            sent = "texted to the client from the front-desk number" if link.texted else \
                "not texted (no active front-desk number, or the client opted out); share it yourself"
            flash(f"Payment link created and {sent}: {link.url}", "success")
        return redirect(_back())

    return confirm_step(lambda: preview_payment_link(booking_id), _back(), send)


@bp.route("/bookings/<int:booking_id>/paid-in-person", methods=["POST"])
@owner_or_staff
def paid_in_person(booking_id: int):
    get_in_org_or_404(Booking, booking_id)

    def record():
        try:
            mark_paid_in_person(booking_id, actor=actor())
        except DomainError as exc:
            flash(str(exc), "error")
        else:
            flash(f"Booking #{booking_id} is recorded as paid in person and confirmed; "
                  f"{text_outcome(booking_id, 'booking_confirmation')}.", "success")
        return redirect(_back())

    return confirm_step(lambda: preview_paid_in_person(booking_id), _back(), record)


def _back() -> str:
    """Back to the page the button was on, if it is one of ours (the booking page after a confirm step)."""
    target = request.referrer or ""
    parts = urlsplit(target)
    if parts.netloc == request.host and parts.path == request.path:  # came from this action's confirm step
        return url_for("admin.booking_detail", booking_id=request.view_args["booking_id"])
    if parts.netloc == request.host and parts.path.startswith("/admin"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("admin.home")
