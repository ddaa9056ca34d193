"""The tests' client reads and closes each response as a WSGI server does."""

from __future__ import annotations

from flask.testing import FlaskClient

from app.jobs.queue import EXTENSION_KEY


class ServerLikeClient(FlaskClient):
    """Werkzeug's test client leaves a response open until the test closes it; a server closes it
    once the body is sent, which runs its close callbacks (the jobs a webhook hands over after
    answering: app.web.after_response). Buffered, each request returns with them done, and with
    the jobs they gave the queue's sender thread in Redis."""

    def open(self, *args, buffered: bool = True, **kwargs):
        response = super().open(*args, buffered=buffered, **kwargs)
        if buffered:
            self.application.extensions[EXTENSION_KEY].wait_sent()
        return response
