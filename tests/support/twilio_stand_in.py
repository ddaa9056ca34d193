"""A local stand-in for Twilio: the SDK's own HttpClient hook, plus request signing as Twilio does."""

from __future__ import annotations

import json
import logging
from email.utils import format_datetime
from pathlib import Path

from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

from app import clock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "twilio"
TOKEN = "twilio-test-token"  # tests/conftest.py build_app
BASE_URL = "https://pawline.test"


def fixture_fields(name: str, **overrides) -> dict:
    """A fixture's form fields (minus `_about`), with overrides; None removes a field."""
    fields = {k: v for k, v in json.loads((FIXTURES / f"{name}.json").read_text()).items() if k != "_about"}
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def twilio_signature(url: str, params: dict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_signed(client, path: str, params: dict, *, sign_url: str | None = None, token: str = TOKEN):
    """POST form fields signed exactly as Twilio signs them (over the public URL)."""
    signature = twilio_signature(sign_url or BASE_URL + path, params, token)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


class TwilioStandIn(HttpClient):
    """Answers the Messages API like Twilio: create (201) and list, and the Calls API's create;
    scripted failures first.

    `fail_next(...)` queues an error answer (HTTP status, Twilio code) or an
    exception for the next create calls; every request is kept in `.requests`.
    """

    def __init__(self):
        super().__init__(logger=logging.getLogger("twilio-stand-in"), is_async=False)
        self.requests: list[dict] = []
        self.created: list[dict] = []
        self.calls: list[dict] = []  # calls placed through the Calls API (click-to-call)
        self._failures: list = []
        self.deleted: list[str] = []  # sids deleted through DELETE /Messages/{sid}.json
        self._delete_failures: list = []

    def fail_next_delete(self, status: int, code: int):
        """Script the next DELETE of a message: an error answer (HTTP status, Twilio code)."""
        self._delete_failures.append((status, code))

    def fail_next(self, status: int | None = None, code: int | None = None, *, raises: Exception | None = None,
                  after_accepting: bool = False):
        """Script the next create: an error answer, or an exception (raised after storing the
        message when `after_accepting`: Twilio took it, then the connection broke)."""
        self._failures.append((raises, after_accepting) if raises else (status, code))

    @property
    def posts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "POST"]

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append({"method": method, "uri": uri, "params": dict(params or {}),
                              "data": dict(data or {})})
        sid = uri.rsplit("/Messages/", 1)[1].removesuffix(".json") if "/Messages/" in uri else None
        if sid is not None and method == "GET":
            return self._fetch(sid)
        if uri.endswith("/Calls.json") and method == "POST":
            return self._create_call(data or {})
        if sid is not None and method == "DELETE":
            return self._delete(sid)
        if not uri.endswith("/Messages.json"):
            return Response(404, json.dumps({"code": 20404, "message": "Not found", "status": 404}))
        if method == "POST":
            return self._create(data or {})
        return self._list(params or {})

    def _create(self, data: dict) -> Response:
        if self._failures:
            first, second = self._failures.pop(0)
            if isinstance(first, Exception):
                if second:
                    self._store(data)
                raise first
            status, code = first, second
            return Response(status, json.dumps({"code": code, "message": f"error {code}", "status": status,
                                                "more_info": f"https://www.twilio.com/docs/errors/{code}"}))
        return Response(201, json.dumps(self._store(data)))

    def _create_call(self, data: dict) -> Response:
        """POST /Calls.json: Twilio queues the call and answers 201 (scripted failures first)."""
        if self._failures:
            first, second = self._failures.pop(0)
            if isinstance(first, Exception):
                raise first
            return Response(first, json.dumps({"code": second, "message": f"error {second}", "status": first,
                                               "more_info": f"https://www.twilio.com/docs/errors/{second}"}))
        call = {"sid": f"CA{len(self.calls) + 1:032x}", "status": "queued", "to": data["To"], "from": data["From"],
                "direction": "outbound-api", "account_sid": "AC" + "0" * 32,
                "date_created": format_datetime(clock.utcnow(), usegmt=True)}
        self.calls.append(call)
        return Response(201, json.dumps(call))

    def _store(self, data: dict) -> dict:
        message = {"sid": f"SM{len(self.created) + 1:032x}", "status": "queued", "to": data["To"],
                   "from": data["From"], "body": data.get("Body", ""), "num_segments": "1",
                   "date_created": format_datetime(clock.utcnow(), usegmt=True),
                   "account_sid": "AC" + "0" * 32, "error_code": None,
                   "num_media": str(len(data.get("MediaUrl", []) if isinstance(data.get("MediaUrl"), list)
                                        else [data["MediaUrl"]] if "MediaUrl" in data else []))}
        self.created.append(message)
        return message

    def _fetch(self, sid: str) -> Response:
        """GET /Messages/{sid}.json: one message by its sid, as Twilio answers it."""
        for message in self.created:
            if message["sid"] == sid:
                return Response(200, json.dumps(message))
        return Response(404, json.dumps({"code": 20404, "message": f"The requested resource {sid} was not found",
                                         "status": 404}))

    def _delete(self, sid: str) -> Response:
        """DELETE /Messages/{sid}.json: 204 and gone (with its media), as Twilio answers it."""
        if self._delete_failures:
            status, code = self._delete_failures.pop(0)
            return Response(status, json.dumps({"code": code, "message": f"error {code}", "status": status}))
        self.deleted.append(sid)
        self.created = [m for m in self.created if m["sid"] != sid]
        return Response(204, "")

    def _list(self, params: dict) -> Response:
        found = [m for m in reversed(self.created)
                 if m["to"] == params.get("To", m["to"]) and m["from"] == params.get("From", m["from"])]
        return Response(200, json.dumps({"messages": found, "next_page_uri": None, "page": 0,
                                         "page_size": int(params.get("PageSize", 50)), "uri": "/x",
                                         "first_page_uri": "/x", "previous_page_uri": None,
                                         "start": 0, "end": len(found)}))
