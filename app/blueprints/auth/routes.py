"""Login, logout and the role-based landing page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import LoginForm
from app.extensions import login_manager
from app.input_guard import safe_redirect_target
from app.services.accounts import authenticate, load_active_user

BAD_LOGIN = "That email and password do not match an account."


@login_manager.user_loader
def _load_user(user_id: str):
    return load_active_user(int(user_id)) if user_id.isdigit() else None


def home_for(user) -> str:
    return url_for("sitter.dashboard") if user.role == "sitter" else url_for("admin.home")


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: never bounce a fresh login to another host or split a header.
    return safe_redirect_target(target)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(home_for(current_user))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is None:
            flash(BAD_LOGIN, "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")) or home_for(user))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def role_required(*roles: str):
    """Decorator for views: log in first; a logged-in user of another role gets 404."""
    from functools import wraps

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorate
