"""The sitter's compose form."""

import secrets

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from app.services.messaging.sitter_messages import MAX_BODY


def new_send_key() -> str:
    """A fresh one-time key for a compose form (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


class ComposeForm(FlaskForm):
    # Length and emptiness are checked by the send service, which keeps the text on refusal.
    body = TextAreaField("Message", render_kw={"maxlength": MAX_BODY, "rows": 4})
    # Rendered fresh with every new compose box (so it works without JS); a retry of the same
    # draft posts the same key (js/sitter.js keeps it with the draft), and the service sends once.
    send_key = HiddenField(default=new_send_key, render_kw={"data-send-key": ""})
