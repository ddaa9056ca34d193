"""Org settings (owners only)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import actor, form_status, org, owner_only, run_form
from app.blueprints.admin.forms import SettingsForm
from app.services.orgs.line_settings import apply_line_settings
from app.services.orgs.settings import org_quick_replies, parse_quick_replies, update_org_settings
from app.services.visits.settings import update_visit_settings


@bp.route("/settings", methods=["GET", "POST"])
@owner_only
def settings():
    form = SettingsForm(obj=org()) if request.method == "GET" else SettingsForm()
    if request.method == "GET":
        form.quick_replies.data = "\n".join(org_quick_replies(org()))  # a list in the database
    if run_form(form, lambda: _save(form)).ok:
        flash("Settings saved.", "info")
        return redirect(url_for("admin.settings"))
    return render_template("admin/settings.html", form=form), form_status(form)


def _save(form: SettingsForm):
    # A post without the quick-replies field (an older form) leaves them as they are. The line and
    # visit settings are set in this transaction and update_org_settings commits them all, so a
    # refusal anywhere (a bad quick reply included) saves nothing.
    quick_replies = form.quick_replies.data if form.quick_replies.raw_data else None
    if quick_replies is not None:
        parse_quick_replies(quick_replies)
    apply_line_settings(
        org().id, office_phone=form.office_phone_e164.data,
        out_of_window_reply_enabled=form.out_of_window_reply_enabled.data,
        number_cooloff_days=form.number_cooloff_days.data, front_desk_only=form.front_desk_only.data,
        actor=actor())
    update_visit_settings(org().id, late_minutes=form.visit_late_minutes.data,
                          arrival_texts=form.visit_arrival_texts.data, actor=actor())
    return update_org_settings(
        org().id, name=form.name.data, timezone=form.timezone.data, grace_minutes=form.grace_minutes.data,
        quiet_start_hour=form.quiet_start_hour.data, quiet_end_hour=form.quiet_end_hour.data,
        policy_mode=form.policy_mode.data, visit_followup_enabled=form.visit_followup_enabled.data,
        care_notes_lead_minutes=form.care_notes_lead_minutes.data, actor=actor(),
        calendar_week_start=form.calendar_week_start.data,
        support_contact=form.support_contact.data, consent_wording=form.consent_wording.data,
        messaging_service_sid=form.messaging_service_sid.data, retention_days=form.retention_days.data,
        quick_replies=quick_replies)
