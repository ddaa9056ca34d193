"""Security headers on every route of the app, and no caching of pages with personal data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "templates"


def _url_for_rule(rule) -> str:
    url = rule.rule
    for arg in rule.arguments - set(rule.defaults or {}):
        converter = rule._converters[arg].__class__.__name__
        value = {"IntegerConverter": "1", "PathConverter": "css/app.css"}.get(converter, "x")
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", value, url)
    return url


def _every_request(app):
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        yield rule, method, _url_for_rule(rule)


def _assert_security_headers(response, where: str, strict_csp: bool = True) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, where
    if strict_csp:
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where
        assert ("script-src 'self'" in csp and "style-src 'self'" in csp) or "default-src 'none'" in csp, where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("X-Frame-Options") == "DENY", where
    assert h.get("Referrer-Policy") == "same-origin", where
    assert "Strict-Transport-Security" not in h, f"{where}: HSTS outside production"


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "owner"])
def test_every_route_has_the_security_headers(app, make, client, login_as, logged_in):
    if logged_in:
        login_as(make.user("owner"))
    seen = 0
    for rule, method, url in _every_request(app):
        response = client.open(url, method=method)
        where = f"{method} {url} ({rule.endpoint}) -> {response.status_code}"
        _assert_security_headers(response, where, strict_csp=not rule.endpoint.startswith("rq_dashboard"))
        if rule.endpoint == "static":
            assert response.status_code == 200, where
        else:
            # Dynamic answers are never stored: logged-in pages and partials carry personal data.
            assert response.headers.get("Cache-Control") == "no-store", where
        response.close()  # WhiteNoise answers with an open file
        seen += 1
    assert seen >= 40  # the whole url_map, not a sample


def test_logged_in_partials_are_no_store_even_if_a_view_makes_them_public(app, make, client, login_as):
    @app.route("/_public_probe")
    def _public_probe():
        from flask import make_response

        response = make_response("personal")
        response.cache_control.public = True
        response.cache_control.max_age = 3600
        return response

    assert client.get("/_public_probe").headers["Cache-Control"].startswith("public")
    login_as(make.user("owner"))
    assert client.get("/_public_probe").headers["Cache-Control"] == "no-store"
    partial = client.get("/admin", headers={"HX-Request": "true"})
    assert partial.status_code == 200 and partial.headers["Cache-Control"] == "no-store"


def test_hsts_in_production_only_and_no_https_redirect(app_factory):
    prod = app_factory(APP_ENV="production", SECRET_KEY="x" * 40)
    client = prod.test_client()
    over_tls = client.get("/login", base_url="https://pawline.test")
    assert over_tls.status_code == 200  # force_https is off: the TLS proxy does that
    assert over_tls.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    static = client.get("/static/css/app.css", base_url="https://pawline.test")
    assert static.status_code == 200 and "Strict-Transport-Security" in static.headers
    static.close()
    assert client.get("/login", base_url="http://pawline.test").status_code == 200
    # Session cookies stay Secure in production and plain in development/test.
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    dev = app_factory(APP_ENV="development")
    assert not dev.config.get("SESSION_COOKIE_SECURE")
    dev.test_client().get("/login")
    assert not dev.config.get("SESSION_COOKIE_SECURE")


# Anything the Content-Security-Policy refuses, or that needs eval under htmx.
_FORBIDDEN_IN_TEMPLATES = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "inline <style>": re.compile(r"<style\b", re.I),
    "style= attribute": re.compile(r"[\s(,]style\s*=", re.I),
    "on*= handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on": re.compile(r"\bhx-on", re.I),
    "hx-trigger filter (needs eval)": re.compile(r"hx-trigger\s*=\s*[\"'][^\"']*\[", re.I),
    "js: expression (needs eval)": re.compile(r"hx-(?:vals|headers|vars)\s*=\s*[\"']\s*(?:js|javascript):", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_have_nothing_the_csp_refuses(template):
    text = re.sub(r"\{#.*?#\}", "", template.read_text(), flags=re.S)  # Jinja comments may name them
    found = [name for name, pattern in _FORBIDDEN_IN_TEMPLATES.items() if pattern.search(text)]
    assert not found, f"{template.name}: {found} (see 'CSP' in docs/design.md)"


def test_only_the_rq_dashboard_may_run_its_own_inline_script(redis_app):
    client = redis_app.test_client()
    rq_page = client.get("/admin/rq/")
    assert rq_page.status_code in (302, 404)  # not for anonymous visitors (nor, later, for org users)
    csp = rq_page.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" in csp and "frame-ancestors 'none'" in csp
    assert rq_page.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in client.get("/login").headers["Content-Security-Policy"]
