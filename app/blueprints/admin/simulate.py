"""Simulate a client text (embedded default only): the same inbound routing as the Twilio webhook."""

from __future__ import annotations

from flask import abort, current_app, render_template
from flask_login import current_user
from sqlalchemy import select

from app.blueprints.admin import bp
from app.blueprints.admin.common import form_status, org, owner_only, run_form
from app.blueprints.admin.forms import SimulateTextForm, options
from app.extensions import db
from app.models import Client, MessageNumber, Thread
from app.services.messaging.simulation import simulate_client_text, simulation_allowed
from app.services.people.phones import national_format


def _form() -> SimulateTextForm:
    form = SimulateTextForm()
    clients = db.session.scalars(select(Client).where(Client.org_id == org().id).order_by(Client.name)).all()
    numbers = db.session.scalars(select(MessageNumber).where(MessageNumber.org_id == org().id,
                                                             MessageNumber.active.is_(True))
                                 .order_by(MessageNumber.kind, MessageNumber.id)).all()
    form.client_id.choices = options([(0, "— another phone (below) —")]
                                     + [(c.id, f"{c.name} ({national_format(c.phone_e164)})") for c in clients])
    form.to_number_id.choices = options(
        (n.id, f"{national_format(n.e164)} ({n.kind.replace('_', ' ')}{', ' + n.sitter.name if n.sitter else ''})")
        for n in numbers)
    return form


@bp.route("/simulate", methods=["GET", "POST"])
@owner_only
def simulate():
    if not simulation_allowed(current_app.config):
        abort(404)
    form = _form()
    outcome = run_form(form, lambda: simulate_client_text(
        org().id, client_id=form.client_id.data or None, other_phone=form.other_phone.data,
        to_number_id=form.to_number_id.data, body=form.body.data, user_id=current_user.id))
    result = outcome.result if outcome.ok else None
    thread = db.session.get(Thread, result.thread_id) if result and result.thread_id else None
    if outcome.ok:
        form = _form()
        form.body.data = ""
    status = 200 if outcome.ok else form_status(form)
    return render_template("admin/simulate.html", form=form, result=result, thread=thread), status
