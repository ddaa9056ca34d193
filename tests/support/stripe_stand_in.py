"""A local stand-in for Stripe's API, plugged into the SDK as its HTTP client."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl

import stripe


class StripeStandIn(stripe.HTTPClient):
    """Records each request; answers Checkout creates like Stripe (same key, same session)."""

    name = "pawline-stripe-stand-in"

    def __init__(self, fail_with: int | None = None):
        super().__init__()
        self.requests: list[dict] = []
        self.fail_with = fail_with

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        form = dict(parse_qsl(post_data or ""))
        self.requests.append(
            {"method": method, "url": url, "headers": dict(headers or {}), "form": form}
        )
        if self.fail_with:
            error = {
                "error": {
                    "type": "invalid_request_error",
                    "message": "Amount must be at least 50 cents",
                }
            }
            return json.dumps(error), self.fail_with, {"Request-Id": "req_stand_in"}
        # Stripe answers a repeated idempotency key with the first response: same session.
        session_id = (
            "cs_test_" + hashlib.sha256(headers["Idempotency-Key"].encode()).hexdigest()[:24]
        )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            "metadata": {
                k[len("metadata[") : -1]: v for k, v in form.items() if k.startswith("metadata[")
            },
            "amount_total": int(form.get("line_items[0][price_data][unit_amount]", 0)),
        }
        return json.dumps(session), 200, {"Request-Id": "req_stand_in"}

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        raise NotImplementedError("Checkout creation does not stream")

    def close(self):
        pass
