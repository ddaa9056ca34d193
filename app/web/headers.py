"""Security headers on every response, and no caching of pages with personal data.

One place for the Content-Security-Policy: no inline script or style anywhere (JS lives in
app/static/js/, CSS in app/static/css/, third-party code in app/static/vendor/ from npm).
Static files served by WhiteNoise get the same headers from `static_file_headers`.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

# 'self' only: no inline script or style, no eval (htmx is configured with allowEval=false).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# rq-dashboard (operators only, third-party templates) ships inline script and style.
_RQ_DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

REFERRER_POLICY = "same-origin"
HSTS_MAX_AGE = 365 * 24 * 3600


def csp_header_value(policy: dict[str, str] = CONTENT_SECURITY_POLICY) -> str:
    return "; ".join(f"{k} {v}" for k, v in policy.items())


def static_file_headers(production: bool) -> dict[str, str]:
    """The headers WhiteNoise adds to every static file (it answers before Flask does)."""
    headers = {
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": REFERRER_POLICY,
    }
    if production:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE}; includeSubDomains"
    return headers


def install_security_headers(app: Flask) -> None:
    from flask_talisman import Talisman

    production = app.config["APP_ENV"] == "production"

    # Registered before Talisman's hook, so it runs after it (Flask runs them in reverse).
    @app.after_request
    def _personal_data_is_not_cached(response):
        # Every dynamic answer is no-store unless its view explicitly made it public
        # (a web manifest, say). Logged-in pages and partials always are: they carry personal data.
        if current_user.is_authenticated or not response.cache_control.public:
            response.headers["Cache-Control"] = "no-store"
        if request.blueprint == "rq_dashboard":
            response.headers["Content-Security-Policy"] = _RQ_DASHBOARD_CSP
        return response

    Talisman(
        app,
        # TLS ends at the proxy (see docs/operations.md); redirecting here would loop or break tests.
        force_https=False,
        strict_transport_security=production,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy=REFERRER_POLICY,
        x_content_type_options=True,
        # Cookie flags stay with app.config (secure in production only); Talisman would
        # otherwise force Secure on plain-http development.
        session_cookie_secure=production,
        session_cookie_http_only=True,
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )
