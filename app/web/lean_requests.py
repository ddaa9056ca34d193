"""Lean requests: signed webhooks skip the per-request work that serves people in browsers.

A webhook (Stripe, Twilio) has no session, no login, no org to scope to before its service
finds one, no page to protect with a Content-Security-Policy, and no login throttle: its
signature is the check. The app is a `PawlineFlask`: for the routes in `LEAN_ENDPOINTS` it runs
only the `before_request` and `after_request` hooks named in `KEPT_FOR_WEBHOOKS` (request ids
in the response and every log line, the webhook metrics, the input guard, and org scoping,
which resets the scope without loading a login), listed once at the end of create_app; every
other request runs every hook, as Flask does. The signature checks live in the views and
services and are untouched. A webhook answer still carries fixed headers (`WEBHOOK_HEADERS`):
nothing in it is for a browser to render or a cache to keep.

Teardown hooks are left alone: they release what a request holds (the database session,
the request id's log context), whatever the route.
"""

from __future__ import annotations

import inspect

from flask import Flask, request
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface

# The signed webhook routes (endpoint names). A route added to app/blueprints/webhooks
# must be named here (a test checks that every rule of the blueprint is).
LEAN_ENDPOINTS = frozenset({
    "webhooks.stripe_webhook",
    "webhooks.twilio_sms",
    "webhooks.twilio_status",
    "webhooks.twilio_voice",
    "webhooks.twilio_voice_dial_ended",
    "webhooks.twilio_voice_status",
})

# Hooks that run for webhooks too (their qualified names): request ids and webhook metrics,
# and the input guard (control characters, bounded query values, JSON shape).
KEPT_FOR_WEBHOOKS = frozenset({
    "app.web.request_ids.install_request_ids.<locals>._start_request",
    "app.web.request_ids.install_request_ids.<locals>._finish_request",
    "app.web.input_guard.reject_unusable_input",
    # Unscopes the request (a test's outer app context may hold a scope); skips the login itself.
    "app.web.scoping.install_org_scoping.<locals>._scope_request_to_user_org",
})

# What Talisman and the no-store hook would have said, as constants.
WEBHOOK_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def is_lean_request() -> bool:
    return request.endpoint in LEAN_ENDPOINTS


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the signer for a request that sent no
    session cookie (a webhook never does): its session is the new, empty one Flask would make."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


class PawlineFlask(Flask):
    """Flask, except that a signed webhook's request runs only the hooks kept for webhooks (and no
    URL value preprocessor, none of which is about webhooks): not even a check of its own per
    skipped hook (Flask calls each hook through `ensure_sync`)."""

    session_interface = CookieSessions()
    lean_before_hooks: tuple = ()
    lean_after_hooks: tuple = ()

    def preprocess_request(self):
        if request.endpoint not in LEAN_ENDPOINTS:
            return super().preprocess_request()
        for hook in self.lean_before_hooks:
            answer = hook()
            if answer is not None:
                return answer
        return None

    def process_response(self, response):
        if request.endpoint not in LEAN_ENDPOINTS:
            return super().process_response(response)
        # `after_this_request` functions first, as Flask runs them (a webhook has no session to save).
        for hook in (*request_ctx._after_request_functions, *self.lean_after_hooks):
            response = hook(response)
        return response


def _name(hook) -> str:
    target = getattr(hook, "func", hook)  # functools.partial (Flask-Limiter's header hook)
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', repr(target))}"


def _webhook_headers(response):
    response.headers.update(WEBHOOK_HEADERS)
    return response


def install_lean_requests(app: PawlineFlask) -> None:
    """List the hooks webhooks keep, in Flask's order (call last in create_app: hooks registered
    later run for every other request, never for webhooks)."""
    kept = {_name(hook): hook for scope in (None, "webhooks")
            for hook in (*app.before_request_funcs.get(scope, ()), *app.after_request_funcs.get(scope, ()))
            if _name(hook) in KEPT_FOR_WEBHOOKS}
    missing = KEPT_FOR_WEBHOOKS - kept.keys()
    if missing or any(inspect.iscoroutinefunction(hook) for hook in kept.values()):
        raise RuntimeError(f"hooks kept for webhooks must be registered, and plain functions: {sorted(missing)}")
    app.lean_before_hooks = tuple(hook for scope in (None, "webhooks")
                                  for hook in app.before_request_funcs.get(scope, ()) if hook in kept.values())
    # After hooks run blueprint first, each list last-registered first; the fixed headers before all.
    app.lean_after_hooks = (_webhook_headers, *(hook for scope in ("webhooks", None)
                                                for hook in reversed(app.after_request_funcs.get(scope, ()))
                                                if hook in kept.values()))
