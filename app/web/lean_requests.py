"""Lean requests: signed webhooks skip the per-request work that serves people in browsers.

A webhook (Stripe, Twilio) has no session, no login, no org to scope to before its service
finds one, no page to protect with a Content-Security-Policy, and no login throttle: its
signature is the check. Every `before_request` and `after_request` hook of the app (ours,
Flask-Login's, Flask-WTF's, Talisman's, Flask-Limiter's, htmx's) is wrapped once, at the
end of create_app, so that it consults `LEAN_ENDPOINTS` and does nothing for those routes,
except the hooks in `KEPT_FOR_WEBHOOKS`: request ids (in the response and every log line)
and the webhook metrics, the input guard, and org scoping (which resets the scope without
loading a login for them). The signature checks live in the views and
services and are untouched. A webhook answer still carries fixed headers (`WEBHOOK_HEADERS`):
nothing in it is for a browser to render or a cache to keep.

Teardown hooks are left alone: they release what a request holds (the database session,
the request id's log context), whatever the route.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, request

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


def _name(hook) -> str:
    target = getattr(hook, "func", hook)  # functools.partial (Flask-Limiter's header hook)
    return f"{getattr(target, '__module__', '')}.{getattr(target, '__qualname__', repr(target))}"


def _skipping_before(hook):
    @wraps(hook)
    def before():
        if request.endpoint in LEAN_ENDPOINTS:
            return None
        return hook()

    before.pawline_lean = True
    return before


def _skipping_after(hook):
    @wraps(hook)
    def after(response):
        if request.endpoint in LEAN_ENDPOINTS:
            return response
        return hook(response)

    after.pawline_lean = True
    return after


def install_lean_requests(app: Flask) -> None:
    """Wrap every app-wide and webhook-blueprint hook registered so far (call last in create_app)."""
    for scope in (None, "webhooks"):
        for funcs, wrap in ((app.before_request_funcs, _skipping_before), (app.after_request_funcs, _skipping_after)):
            hooks = funcs.get(scope)
            if not hooks:
                continue
            funcs[scope] = [hook if getattr(hook, "pawline_lean", False) or _name(hook) in KEPT_FOR_WEBHOOKS
                            else wrap(hook) for hook in hooks]

    @app.after_request
    def _webhook_headers(response):
        # Registered last, so it runs first of the after hooks (Flask runs them in reverse).
        if request.endpoint in LEAN_ENDPOINTS:
            response.headers.update(WEBHOOK_HEADERS)
        return response

    _webhook_headers.pawline_lean = True
