"""The installable app and its notifications: manifest, service worker, offline page, push subscriptions."""

from flask import Blueprint

bp = Blueprint("pwa", __name__)

from app.blueprints.pwa import routes  # noqa: E402,F401
