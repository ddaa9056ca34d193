"""A second process for tests/ops/test_metrics_multiprocess.py: sends one queued text and answers
one signed status callback for it, with PROMETHEUS_MULTIPROC_DIR set by the parent, then exits.

`python -m tests.support.metrics_child DATABASE_URL MESSAGE_ID` from the repository root.
"""

from __future__ import annotations

import sys

from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.jobs import send_message
from app.models import Message
from tests.support.twilio_stand_in import BASE_URL, TOKEN, fixture_fields, post_signed

STATUS = "/webhooks/twilio/status"


def main(database_url: str, message_id: int) -> int:
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test-secret",
                      "SERVER_NAME": "pawline.test", "PUBLIC_BASE_URL": BASE_URL, "REDIS_URL": None,
                      "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "SMS_PROVIDER": "outbox"})
    with app.app_context():
        status = send_message(message_id)
        sid = db.session.scalar(select(Message.provider_sid).where(Message.id == message_id))
        db.session.remove()
    if status != "sent" or not sid:
        print(f"the text was not sent: {status}", file=sys.stderr)
        return 1
    fields = fixture_fields("status-callback", MessageSid=sid, SmsSid=sid)  # says undelivered (30003)
    response = post_signed(app.test_client(), STATUS, fields)
    with app.app_context():
        db.engine.dispose()
    return 0 if response.status_code == 200 else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
