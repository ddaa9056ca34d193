"""Reset tokens never reach a log line: the access line gunicorn writes for every request of the
reset flow (issue, open, submit, and an old-style `/reset/<token>` link), and the app's own logs.

The probe found `GET /reset/<token>` in the access log. The link now carries the token in its
fragment (never sent by a browser) and the form POSTs it in the body; an old-style path is refused
and hidden from every log line by app.privacy's masking.
"""

from __future__ import annotations

import io
import logging
import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

ROOT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "kibble-and-cuddles-9"


@pytest.fixture
def access_log():
    """gunicorn's logger, set up exactly as deploy/gunicorn.conf.py sets it, writing to a buffer;
    `line(response)` writes the access line of one test-client response and returns it."""
    settings = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", settings["access_log_format"])
    logger = settings["PawlineLogger"](cfg)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.access_log.addHandler(handler)
    app_stream = io.StringIO()
    root_handler = logging.StreamHandler(app_stream)
    logging.getLogger().addHandler(root_handler)

    def line(response) -> str:
        environ = dict(response.request.environ)
        query = environ.get("QUERY_STRING")
        environ.setdefault("RAW_URI", environ["PATH_INFO"] + (f"?{query}" if query else ""))
        resp = SimpleNamespace(status=response.status, sent=len(response.get_data()),
                               headers=list(response.headers.items()))
        before = len(stream.getvalue())
        logger.access(resp, SimpleNamespace(headers=[]), environ, timedelta(milliseconds=12))
        return stream.getvalue()[before:]

    yield SimpleNamespace(line=line, all=stream.getvalue, app_lines=app_stream.getvalue)
    logger.access_log.removeHandler(handler)
    logging.getLogger().removeHandler(root_handler)


def test_no_access_line_of_the_reset_flow_holds_the_token(app, client, make, login_as, access_log):
    owner, staff = make.user("owner"), make.user("staff")
    login_as(owner)
    issued = client.post(f"/admin/users/{staff.id}/reset-link")
    token = re.search(r'#t=([^"]+)"', issued.get_data(as_text=True)).group(1)
    visitor = app.test_client()
    flow = [
        issued,
        visitor.get("/reset/" + token),  # an old-style link someone still has: refused, token unused
        visitor.get("/reset"),  # what a browser requests for /reset#t=…: the fragment stays behind
        visitor.post("/reset", data={"token": token, "password": "short", "confirm": "short"}),
        visitor.post("/reset", data={"token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}),
    ]
    assert [r.status_code for r in flow] == [200, 410, 200, 422, 302]
    lines = [access_log.line(response) for response in flow]
    assert all(line.strip() for line in lines)
    assert '"GET /reset/[token hidden] HTTP/1.1" 410' in lines[1]
    assert '"POST /reset HTTP/1.1" 302' in lines[4]
    assert token not in access_log.all()
    assert token not in access_log.app_lines()


def test_no_access_line_of_the_code_flow_holds_the_code_or_the_email(app, client, make, db, access_log):
    from tests.blueprints.test_passwords import _code_text

    make.number("front_desk")
    sitter = make.sitter()
    email = sitter.user.email
    asked = client.post("/forgot", data={"email": email})
    _, code = _code_text(db, sitter.phone_e164)
    form = client.get(asked.headers["Location"])
    assert f'value="{email}"' in form.get_data(as_text=True)  # the form still knows who asked
    done = client.post("/forgot/code", data={"email": email, "code": code, "password": NEW_PASSWORD,
                                             "confirm": NEW_PASSWORD})
    assert [r.status_code for r in (asked, form, done)] == [302, 200, 302]
    for response in (asked, form, done):
        access_log.line(response)
    request_lines = re.findall(r'"((?:GET|POST) [^"]+)"', access_log.all())
    assert "POST /forgot/code HTTP/1.1" in request_lines
    assert not [line for line in request_lines if code in line or "code=" in line]
    assert email not in access_log.all() and email.replace("@", "%40") not in access_log.all()
