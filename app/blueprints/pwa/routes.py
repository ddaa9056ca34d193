"""Thin views over app.services.notifications.notify, plus the static-ish files an installable app needs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import current_app, flash, jsonify, make_response, redirect, render_template, request, url_for

from app.blueprints.pwa import bp
from app.errors import InvalidInput
from app.services.notifications import notify as notifications
from app.web.input_guard import takes_structured_json
from app.web.principals import current_org_user, org_user_required

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"
# The service worker controls the sitter pages only: admin pages stay plain pages.
SITTER_SCOPE = "/sitter"


@bp.route("/manifest.webmanifest")
def manifest():
    name = current_app.config["APP_NAME"]
    body = {
        "name": f"{name} for sitters",
        "short_name": name,
        "start_url": SITTER_SCOPE,
        "scope": SITTER_SCOPE,
        "display": "standalone",
        "background_color": "#f6f7fb",
        "theme_color": "#2458d3",
        "icons": [
            {"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
             "type": "image/png", "purpose": "any maskable"}
            for size in (192, 512)
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


def _shell_urls() -> list[str]:
    """What the service worker caches: nothing personal, and the icon last (notifications use it)."""
    names = ("css/app.css", "css/sitter.css", "css/offline.css", "js/offline_cards.js", "icons/icon-192.png")
    static = [url_for("static", filename=name) for name in names]
    return [url_for("pwa.offline"), *static]


@bp.route("/sw.js")
def service_worker():
    shell = _shell_urls()
    # A new deploy (new hashed URLs) is a new cache: the worker drops the old one on activate.
    version = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:12]
    prelude = f"self.PAWLINE_SHELL = {json.dumps(shell)};\nself.PAWLINE_SHELL_VERSION = {json.dumps(version)};\n"
    response = make_response(prelude + (STATIC_JS / "sw.js").read_text())
    response.mimetype = "text/javascript"
    # Browsers re-check the worker on navigation; never let a cache pin an old one.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
def offline():
    """Cached by the service worker at install: shown when a sitter page cannot load."""
    return render_template("pwa/offline.html")


def _subscription_json() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("Send the browser's PushSubscription as JSON.", field="subscription")
    return data


@bp.route("/push/subscriptions", methods=["POST"])
@org_user_required
@takes_structured_json  # the PushSubscription JSON nests its keys
def subscribe():
    """The browser's PushSubscription JSON (plus `inbox_items` for owners and staff)."""
    data = _subscription_json()
    subscription_id = notifications.save_push_subscription(
        current_org_user(), data, device=request.user_agent.string[:120], inbox_items=bool(data.get("inbox_items")))
    return jsonify(id=subscription_id, saved=True), 201


@bp.route("/push/subscriptions", methods=["DELETE"])
@org_user_required
def unsubscribe():
    endpoint = _subscription_json().get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidInput("Which subscription? Send its endpoint.", field="endpoint")
    notifications.delete_push_subscription(current_org_user(), endpoint)
    return "", 204


@bp.route("/notifications")
@org_user_required
def notifications_page():
    return render_template("pwa/notifications.html", choices=notifications.notification_choices(current_org_user()))


@bp.route("/notifications/sms-ping", methods=["POST"])
@org_user_required
def sms_ping():
    enabled = request.form.get("sms_ping") == "on"
    try:
        notifications.set_sms_ping(current_org_user(), enabled)
    except InvalidInput as exc:
        flash(str(exc), "error")
        return make_response(redirect(url_for("pwa.notifications_page")))
    flash("Text pings are on." if enabled else "Text pings are off.", "info")
    return redirect(url_for("pwa.notifications_page"))
