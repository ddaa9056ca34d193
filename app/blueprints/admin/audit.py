"""The audit log, filtered and paged."""

from __future__ import annotations

from flask import request

from app.blueprints.admin import bp
from app.blueprints.admin.common import org, owner_or_staff, page_arg, sitter_choices
from app.blueprints.admin.forms import AuditFilterForm, options
from app.services.audit.sentences import describe_events
from app.services.queries.admin import (
    AuditFilters,
    audit_people,
    choices_for_booking_form,
    event_kinds,
    list_events,
)
from app.web.templating import render_page_or_partial


@bp.route("/audit")
@owner_or_staff
def audit():
    form = AuditFilterForm(request.args)
    form.sitter_id.choices = sitter_choices(choices_for_booking_form(org().id)[1], "any")
    form.user_id.choices = options([(0, "anyone")] + audit_people(org().id))
    filters = AuditFilters()
    if form.validate():
        filters = AuditFilters(kind=form.kind.data or None, booking_id=form.booking_id.data or None,
                               sitter_id=form.sitter_id.data or None, date_from=form.date_from.data,
                               date_to=form.date_to.data, user_id=form.user_id.data or None)
    page = list_events(org().id, org().timezone, filters, page_arg())
    return render_page_or_partial("admin/audit.html", "admin/partials/audit_rows.html", listing=page, form=form,
                                  lines=describe_events(org().id, org().timezone, page.items),
                                  kinds=event_kinds(org().id), args=request.args.to_dict())
