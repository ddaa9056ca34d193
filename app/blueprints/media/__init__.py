"""Media: authorised reads of attachments and the signed links Twilio fetches outbound photos by."""

from flask import Blueprint

bp = Blueprint("media", __name__)

from app.blueprints.media import routes  # noqa: E402,F401
