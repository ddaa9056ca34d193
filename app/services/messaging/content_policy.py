"""Content policy on sitter messages: contact details and payment stay on the platform."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.privacy import redact_phone_numbers

KIND_LABELS = {
    "phone_number": "a phone number",
    "email": "an e-mail address",
    "payment_handle": "an off-platform payment handle",
}

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}", re.IGNORECASE)
# "name (at) gmail (dot) com", "name at gmail dot com": spelled-out e-mail addresses.
_SPELLED_EMAIL = re.compile(
    r"\b[\w.+-]+\s*(?:\(at\)|\[at\]|\sat\s)\s*[\w-]+\s*(?:\(dot\)|\[dot\]|\sdot\s|\.)\s*"
    r"(?:com|net|org|edu|io|me|co|us)\b",
    re.IGNORECASE,
)
_PAYMENT = [
    ("Venmo", re.compile(r"\bven+mo\b|venmo\.com", re.IGNORECASE)),
    ("Cash App", re.compile(r"\bcash\s*app\b|cash\.app|\bsquare\s*cash\b", re.IGNORECASE)),
    # A $cashtag starts with a letter; "$20" is a price, not a handle.
    ("Cash App", re.compile(r"(?<![\w$])\$[A-Za-z][A-Za-z0-9_]{1,19}\b")),
    ("Zelle", re.compile(r"\bzelle\b", re.IGNORECASE)),
    ("PayPal", re.compile(r"\bpay\s*pal\b|paypal\.me|paypal\.com", re.IGNORECASE)),
]


@dataclass(frozen=True)
class PolicyCheck:
    """What a message would leak, and what the org's policy does about it."""

    mode: str  # the org's policy_mode: block or flag
    kinds: tuple[str, ...]  # phone_number, email, payment_handle (each once, in that order)
    services: tuple[str, ...] = ()  # payment services named, e.g. ("Venmo",)

    @property
    def violated(self) -> bool:
        return bool(self.kinds)

    @property
    def blocked(self) -> bool:
        return self.violated and self.mode == "block"

    @property
    def flagged(self) -> bool:
        return self.violated and self.mode != "block"

    @property
    def found_text(self) -> str:
        """'a phone number and an off-platform payment handle (Venmo)'; never the value itself."""
        labels = []
        for kind in self.kinds:
            label = KIND_LABELS[kind]
            if kind == "payment_handle" and self.services:
                label += f" ({', '.join(self.services)})"
            labels.append(label)
        if len(labels) <= 1:
            return "".join(labels)
        return ", ".join(labels[:-1]) + " and " + labels[-1]


def find_violations(body: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kinds of contact or payment details in a text, and the payment services named."""
    text = body or ""
    kinds = []
    if redact_phone_numbers(text) != text:
        kinds.append("phone_number")
    if _EMAIL.search(text) or _SPELLED_EMAIL.search(text):
        kinds.append("email")
    services = []
    for service, pattern in _PAYMENT:
        if pattern.search(text) and service not in services:
            services.append(service)
    if services:
        kinds.append("payment_handle")
    return tuple(kinds), tuple(services)


def check_sitter_message(org, body: str) -> PolicyCheck:
    """Check a sitter's text against the org's policy (block refuses, flag sends and records)."""
    kinds, services = find_violations(body)
    return PolicyCheck(mode=org.policy_mode or "block", kinds=kinds, services=services)
