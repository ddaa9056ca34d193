"""A client's data: download it all (one JSON file) or erase it (owners only; staff get 404)."""

from __future__ import annotations

from datetime import datetime

from flask import Response, flash, redirect, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, confirm_step, owner_only
from app.blueprints.admin.forms import ConfirmForm
from app.extensions import db
from app.models import Client, Org
from app.services.automations.runs import automation_sends_at
from app.services.messaging.provider_deletion import retry_failed_deletions
from app.services.people.client_data import export_filename, export_json
from app.services.people.client_erase import erase_client
from app.services.people.timezones import client_zone_name
from app.services.queries.erase_preview import preview_erase_client
from app.web.scoping import get_in_org_or_404


@bp.app_template_global("client_zone")
def client_zone(client: Client) -> str:
    """The client's own zone, for showing when a text reaches them (quiet hours are judged there)."""
    return client_zone_name(client, db.session.get(Org, client.org_id))


@bp.app_template_global("automation_sends_at")
def sends_at(when: datetime, client: Client) -> datetime:
    """When a scheduled automation reaches the client (after their quiet hours then, if in them)."""
    return automation_sends_at(when, client, db.session.get(Org, client.org_id))


@bp.get("/clients/<int:client_id>/export")
@owner_only
def client_export(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    return Response(export_json(client.id), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{export_filename(client.id)}"',
        "Cache-Control": "no-store"})


@bp.post("/clients/<int:client_id>/erase")
@owner_only
def client_erase(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    back = url_for("admin.client_detail", client_id=client.id)

    def erase():
        counts = erase_client(client.id, actor=actor())
        flash(f"The client's data was erased: {counts['messages']} texts blanked, {counts['media']} photos "
              f"deleted, {counts['bookings_cancelled']} open bookings cancelled (the client was not texted). "
              f"Twilio is asked to delete {counts['provider_deletions']} copies; this page shows their "
              "progress.", "info")
        return redirect(back)

    return confirm_step(lambda: preview_erase_client(client.id), back, erase)


@bp.post("/clients/<int:client_id>/erase/retry")
@owner_only
def client_erase_retry(client_id: int):
    client = get_in_org_or_404(Client, client_id)
    if ConfirmForm().validate_on_submit():
        n = retry_failed_deletions(client.id)
        flash(f"Asked Twilio again to delete {n} copies.", "info")
    return redirect(url_for("admin.client_detail", client_id=client.id))
