"""Logins of the org (owners only)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.admin import bp
from app.blueprints.admin.common import (
    actor,
    confirm_step,
    form_status,
    org,
    owner_only,
    page_arg,
    run_form,
)
from app.blueprints.admin.forms import ConfirmForm, UserForm
from app.errors import Conflict
from app.models import User
from app.services.accounts.passwords import issue_reset_link, log_out_everywhere
from app.services.accounts.users import add_user, set_user_active
from app.services.queries.action_previews import preview_deactivate_user
from app.services.queries.admin import list_users
from app.web.scoping import get_in_org_or_404


@bp.route("/users", methods=["GET", "POST"])
@owner_only
def users():
    form = UserForm()
    outcome = run_form(form, lambda: add_user(org().id, email=form.email.data, password=form.password.data,
                                              role=form.role.data, name=form.name.data, actor=actor()))
    if outcome.ok:
        flash(f"{outcome.result.email} can now log in as {outcome.result.role}.", "info")
        return redirect(url_for("admin.users"))
    return render_template("admin/users.html", listing=list_users(org().id, page_arg()), form=form,
                           confirm=ConfirmForm()), form_status(form)


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@owner_only
def user_set_active(user_id: int):
    user = get_in_org_or_404(User, user_id)
    active = request.form.get("active") == "1"

    def switch():
        try:
            set_user_active(user.id, active, acting_user_id=current_user.id, actor=actor())
        except Conflict as exc:
            flash(str(exc), "error")
        else:
            flash(f"{user.name} ({user.email}) can log in again." if active else
                  f"{user.name} ({user.email}) can no longer log in; their sessions have ended.", "info")
        return redirect(url_for("admin.users"))

    # Reactivating lets someone back in and can be undone: nothing to confirm.
    return confirm_step(lambda: None if active else preview_deactivate_user(user.id), url_for("admin.users"),
                        switch)


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@owner_only
def user_end_sessions(user_id: int):
    """Log a user of the org out on every device (a lost phone, a stolen password)."""
    user = get_in_org_or_404(User, user_id)
    if ConfirmForm().validate_on_submit():
        ended = log_out_everywhere(user.id, actor=actor())
        flash(f"{user.email} is logged out everywhere ({ended} session{'s' if ended != 1 else ''} ended).", "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/reset-link", methods=["POST"])
@owner_only
def user_reset_link(user_id: int):
    """A one-time reset link, shown on this response only (never flashed: the session cookie is readable)."""
    user = get_in_org_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("admin.users"))
    token = issue_reset_link(user.id, actor=actor())
    base = current_app.config.get("PUBLIC_BASE_URL") or request.url_root.rstrip("/")
    # The token rides in the fragment: a browser never sends it, so no access log holds it.
    link = base + url_for("auth.reset_password") + "#t=" + token
    response = current_app.make_response(render_template("admin/reset_link.html", user=user, link=link))
    response.headers["Cache-Control"] = "no-store"
    return response
