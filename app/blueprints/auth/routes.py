"""Login, logout, one's account (password, sessions), resets, and the role-based landing page."""

from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.blueprints.auth import bp
from app.blueprints.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetCodeForm,
    ResetPasswordForm,
)
from app.clock import utcnow
from app.errors import DomainError, InvalidInput
from app.extensions import login_manager
from app.services.accounts import passwords as accounts
from app.services.accounts import sessions
from app.services.accounts.reset_codes import codes_per_day, request_reset_code
from app.services.accounts.throttle import (
    code_request_refusal,
    login_refusal,
    record_lockout,
    record_login_failure,
    record_login_success,
)
from app.web.input_guard import safe_redirect_target
from app.web.principals import org_user_required

BAD_LOGIN = "That email and password do not match an account."
# Our own remember cookie (Flask-Login's `remember_token` is user_id|HMAC, the same on every
# login): `<login session id>:<secret>`, rotated each time it brings a login back.
REMEMBER_COOKIE = "pawline_remember"
FORGOT_EMAIL = "forgot_email"  # session key: the email /forgot was asked about, for the code form


@login_manager.user_loader
def _load_user(token: str):
    return sessions.load_session(token)


@login_manager.request_loader
def _load_user_from_remember_cookie(req):
    cookie = req.cookies.get(REMEMBER_COOKIE)
    if not cookie:
        return None
    restored = sessions.resume_from_remember(cookie, user_agent=req.user_agent.string)
    if restored is None:
        g.remember_cookie = None  # stale or ended: drop it
        return None
    _renew_session(restored.principal, fresh=False)
    g.remember_cookie = restored
    return restored.principal


@bp.after_app_request
def _write_remember_cookie(response):
    if "remember_cookie" not in g:
        return response
    restored = g.pop("remember_cookie")
    cfg = current_app.config
    if restored is None or restored.remember_cookie is None:
        response.delete_cookie(REMEMBER_COOKIE, httponly=True, samesite=cfg.get("REMEMBER_COOKIE_SAMESITE"),
                               secure=cfg.get("REMEMBER_COOKIE_SECURE", False))
    else:
        response.set_cookie(REMEMBER_COOKIE, restored.remember_cookie, expires=restored.expires_at, httponly=True,
                            samesite=cfg.get("REMEMBER_COOKIE_SAMESITE"),
                            secure=cfg.get("REMEMBER_COOKIE_SECURE", False))
    return response


def _renew_session(principal, *, fresh: bool = True) -> None:
    # A new login gets a new session: nothing planted before it (a CSRF token, a
    # next-page) survives, and the cookie carries only the new login's token.
    session.clear()
    login_user(principal, remember=False, fresh=fresh)


def home_for(user) -> str:
    if user.role == "operator":
        return "/admin/rq/"
    return url_for("sitter.dashboard") if user.role == "sitter" else url_for("admin.home")


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: never bounce a fresh login to another host or split a header.
    return safe_redirect_target(target)


def _client_address() -> str | None:
    return request.remote_addr


def _throttled(template: str, refusal, **context):
    minutes = max(1, round(refusal.retry_after_seconds / 60))
    flash(f"Too many failed attempts. Try again in about {minutes} minute{'s' if minutes != 1 else ''} "
          f"(after {refusal.retry_at:%H:%M} UTC).", "error")
    response = current_app.make_response((render_template(template, **context), 429))
    response.headers["Retry-After"] = str(refusal.retry_after_seconds)
    return response


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
        email, address = accounts.normalise_email(form.email.data), _client_address()
        refusal = login_refusal(email, address)
        if refusal is not None:  # even the right password waits: the lock is the point
            return _throttled("auth/login.html", refusal, form=form)
        principal = accounts.authenticate(email, form.password.data)
        if principal is None:
            locked = record_login_failure(email, address)
            accounts.note_failed_login(email, address, locked=locked,
                                       repeated_lockout=locked and record_lockout(email))
            flash(BAD_LOGIN, "error")
            return render_template("auth/login.html", form=form), 401
        record_login_success(email)
        started = sessions.start_session(principal, remember=form.remember.data,
                                         user_agent=request.user_agent.string)
        next_page = _safe_next(request.args.get("next"))
        _renew_session(principal)
        g.remember_cookie = started
        return redirect(next_page or home_for(principal))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end_session(current_user.session_token)
    _end_current_login()
    flash("You are logged out.", "info")
    response = redirect(url_for("auth.login"))
    # A shared phone forgets this site's storage: the visit cards the service worker kept for
    # offline reading (and drafts, and the worker itself). js/offline_cards.js also deletes the
    # cards from the page, for browsers that ignore the header.
    response.headers["Clear-Site-Data"] = '"storage"'
    return response


def _render_account(form, status: int = 200):
    return render_template("auth/account.html", form=form,
                           live_sessions=sessions.live_sessions(current_user.id)), status


@bp.route("/account", methods=["GET", "POST"])
@org_user_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # Guessing the current password from a borrowed session counts like guessing it at /login.
        email, address = current_user.email, _client_address()
        refusal = login_refusal(email, address)
        if refusal is not None:
            return _throttled("auth/account.html", refusal, form=form,
                              live_sessions=sessions.live_sessions(current_user.id))
        try:
            accounts.change_password(current_user.id, form.current_password.data, form.new_password.data,
                                     keep_session_token=current_user.session_token)
        except InvalidInput as exc:
            if exc.field == "current_password":
                record_login_failure(email, address)
            getattr(form, exc.field, form.new_password).errors.append(str(exc))
        else:
            flash("Password changed. Your other sessions were logged out.", "info")
            return redirect(url_for("auth.account"))
        return _render_account(form, 422)
    return _render_account(form, 422 if form.is_submitted() else 200)


@bp.route("/account/sessions/end", methods=["POST"])
@org_user_required
def log_out_everywhere():
    from app.blueprints.admin.forms import ConfirmForm

    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.log_out_everywhere(current_user.id, actor=f"user:{current_user.id}")
    _end_current_login()
    flash("You are logged out on every device.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset", methods=["GET", "POST"])
def reset_password():
    """An owner-issued reset link, `/reset#t=<token>`: the token stays in the fragment (browsers
    never send one, so no access log or proxy sees it); js/reset.js copies it into the form, and
    without JavaScript the person pastes it. The token is read from the POST body only."""
    form = ResetPasswordForm()
    if form.validate_on_submit():
        token = form.token.data.strip()
        if not accounts.reset_link_is_live(token):
            return render_template("auth/reset_expired.html"), 404
        try:
            accounts.reset_with_link(token, form.password.data)
        except InvalidInput as exc:
            form.password.errors.append(str(exc))
        except DomainError as exc:
            flash(str(exc), "error")
            return render_template("auth/reset_expired.html"), 409
        else:
            _end_current_login()
            flash("Password set. Log in with it now.", "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 422 if form.is_submitted() else 200


@bp.route("/reset/<path:old_token>", methods=["GET", "POST"])
def reset_link_old_format(old_token: str):
    """Links issued before the token moved to the fragment: refused without reading, using or
    logging the token (app.privacy hides `/reset/<…>` in every log line, gunicorn's included)."""
    return render_template("auth/reset_link_changed.html"), 410


def _end_current_login() -> None:
    """Forget this browser's login: the session cookie's contents and the remember cookie."""
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    g.remember_cookie = None


@bp.route("/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a code by text. Every answer is the same whether or not the email has an account
    (app.services.accounts.reset_codes decides by the email asked about)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = accounts.normalise_email(form.email.data)
        refusal = code_request_refusal(_client_address())
        if refusal is not None:
            return _throttled("auth/forgot.html", refusal, form=form)
        asked = request_reset_code(email)
        if asked.outcome == "daily_limit":
            return _codes_used_up(form, asked.retry_at)
        if asked.outcome == "already_sent":
            code_form = ResetCodeForm(formdata=None, email=email)
            return render_template("auth/reset_code.html", form=code_form, already_sent_until=asked.valid_until)
        # The email rides in the session, not the query string: access logs keep no addresses.
        session[FORGOT_EMAIL] = email
        return redirect(url_for("auth.reset_with_code"))
    return render_template("auth/forgot.html", form=form), 422 if form.is_submitted() else 200


def _codes_used_up(form, retry_at):
    per_day = codes_per_day()
    flash(f"At most {per_day} code{'s' if per_day != 1 else ''} can be texted for one login in a day. "
          f"Ask again after {retry_at:%H:%M} UTC on {retry_at:%b} {retry_at.day}, or ask an owner for a reset link.",
          "error")
    response = current_app.make_response((render_template("auth/forgot.html", form=form), 429))
    response.headers["Retry-After"] = str(max(1, int((retry_at - utcnow()).total_seconds())))
    return response


@bp.route("/forgot/code", methods=["GET", "POST"])
def reset_with_code():
    form = ResetCodeForm()
    if request.method == "GET":
        form.email.data = (session.get(FORGOT_EMAIL) or request.args.get("email", ""))[:254]
    if form.validate_on_submit():
        email, address = accounts.normalise_email(form.email.data), _client_address()
        refusal = login_refusal(email, address)  # guessing codes counts like guessing passwords
        if refusal is not None:
            return _throttled("auth/reset_code.html", refusal, form=form)
        try:
            accounts.reset_with_code(email, form.code.data, form.password.data)
        except InvalidInput as exc:
            if exc.field == "code":
                record_login_failure(email, address)
            getattr(form, exc.field or "password", form.password).errors.append(str(exc))
        else:
            _end_current_login()
            flash("Password set. Log in with it now.", "info")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_code.html", form=form,
                           sent=request.method == "GET" and bool(form.email.data)), \
        422 if form.is_submitted() else 200


def role_required(*roles: str):
    """Decorator for views: log in first; a logged-in user of another role gets 404."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)

        return wrapped

    return decorate
