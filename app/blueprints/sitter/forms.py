"""The sitter's compose form."""

from flask_wtf import FlaskForm
from wtforms import TextAreaField

from app.services.messaging.sitter_messages import MAX_BODY


class ComposeForm(FlaskForm):
    # Length and emptiness are checked by the send service, which keeps the text on refusal.
    body = TextAreaField("Message", render_kw={"maxlength": MAX_BODY, "rows": 4})
