"""Automations: templates per kind with a live preview, on/off, the schedule, failed runs."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from app.blueprints.admin import bp
from app.blueprints.admin.common import (
    actor,
    confirm_step,
    form_status,
    org,
    owner_or_staff,
    run_form,
)
from app.blueprints.admin.forms import ConfirmForm, TemplateForm, options
from app.errors import Conflict, InvalidInput, NotFound
from app.models import AUTOMATION_KINDS, AutomationRun
from app.services.automations.settings import retry_failed_run, save_template_text, set_kind_enabled
from app.services.automations.templates import TEMPLATE_VARIABLES, preview_template, reset_template, template_for
from app.services.queries.action_previews import preview_automation_off, preview_retry_run, preview_template_reset
from app.services.queries.admin import automation_overview, recent_bookings_for_preview
from app.web.scoping import get_in_org_or_404
from app.web.templating import wants_fragment


@bp.route("/automations")
@owner_or_staff
def automations():
    overview = automation_overview(org().id)
    kinds = [(kind, *template_for(org().id, kind)) for kind in AUTOMATION_KINDS]
    return render_template("admin/automations.html", confirm=ConfirmForm(), kinds=kinds, **overview)


def _kind_arg() -> str:
    kind = request.values.get("kind", "")
    if kind not in AUTOMATION_KINDS:
        abort(404)
    return kind


def _template_form(kind: str) -> TemplateForm:
    if request.method == "POST":
        form = TemplateForm()
    else:
        form = TemplateForm(kind=kind, body=template_for(org().id, kind)[0])
    bookings = recent_bookings_for_preview(org().id)
    form.booking_id.choices = options(
        [(0, "— pick a booking —")]
        + [(b.id, f"#{b.id} {b.client.name} · {b.start_at:%b %d}") for b in bookings])
    if request.method == "GET" and bookings:
        form.booking_id.data = bookings[0].id
    return form


def _preview(form: TemplateForm, kind: str) -> tuple[str | None, str | None]:
    """(text, error) for the form's body against its chosen booking."""
    if not form.booking_id.data:
        return None, "Pick a booking to preview with."
    try:
        return preview_template(org().id, kind, form.body.data or "", form.booking_id.data), None
    except InvalidInput as exc:
        return None, str(exc)
    except NotFound:
        return None, "Pick a booking to preview with."


@bp.route("/automations/template", methods=["GET", "POST"])
@owner_or_staff
def automation_template():
    kind = _kind_arg()
    form = _template_form(kind)
    if run_form(form, lambda: save_template_text(org().id, kind, form.body.data, actor=actor())).ok:
        flash(f"The {kind.replace('_', ' ')} text is saved.", "info")
        return redirect(url_for("admin.automation_template", kind=kind))
    return _template_page(form, kind), form_status(form)


def _template_page(form: TemplateForm, kind: str) -> str:
    preview, preview_error = _preview(form, kind)
    return render_template("admin/automation_template.html", form=form, kind=kind, preview=preview,
                           preview_error=preview_error, variables=TEMPLATE_VARIABLES,
                           enabled=template_for(org().id, kind)[1], confirm=ConfirmForm())


@bp.route("/automations/preview", methods=["POST"])
@owner_or_staff
def automation_preview():
    """The live preview: the template form posts here as the owner types (htmx)."""
    kind = _kind_arg()
    form = _template_form(kind)  # CSRFProtect has checked the token; a preview saves nothing
    if not wants_fragment():
        return _template_page(form, kind)
    preview, preview_error = _preview(form, kind)
    return render_template("admin/partials/template_preview.html", preview=preview,
                           preview_error=preview_error)


@bp.route("/automations/enabled", methods=["POST"])
@owner_or_staff
def automation_enabled():
    kind = _kind_arg()
    enabled = request.form.get("enabled") == "1"

    def switch():
        set_kind_enabled(org().id, kind, enabled, actor=actor())
        words = kind.replace("_", " ").capitalize()
        flash(f"{words} texts are on: the ones that come due from now are sent." if enabled else
              f"{words} texts are off: none is sent until you turn them back on.", "info")
        return redirect(url_for("admin.automations"))

    # Turning texts back on is not final and texts no one early: nothing to confirm.
    return confirm_step(lambda: None if enabled else preview_automation_off(org().id, kind),
                        url_for("admin.automations"), switch)


@bp.route("/automations/reset", methods=["POST"])
@owner_or_staff
def automation_reset():
    kind = _kind_arg()
    back = url_for("admin.automation_template", kind=kind)

    def reset():
        reset_template(org().id, kind, actor=actor())
        flash(f"The {kind.replace('_', ' ')} text is back to the default.", "info")
        return redirect(back)

    return confirm_step(lambda: preview_template_reset(org().id, kind), back, reset)


@bp.route("/automations/runs/<int:run_id>/retry", methods=["POST"])
@owner_or_staff
def automation_run_retry(run_id: int):
    run = get_in_org_or_404(AutomationRun, run_id)
    # The queue health page retries runs through here too, and goes back there (`back` rides
    # along to the yes as a posted field).
    back = url_for("admin.queue" if request.form.get("back") == "queue" else "admin.automations")

    def retry():
        try:
            retry_failed_run(run.id, actor=actor())
        except Conflict as exc:
            flash(str(exc), "error")
        else:
            flash(f"The {run.kind.replace('_', ' ')} text for booking #{run.booking_id} is scheduled again.",
                  "info")
        return redirect(back)

    return confirm_step(lambda: preview_retry_run(run.id), back, retry)
