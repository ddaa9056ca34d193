"""The client's street address for the assigned sitter: from the org's lead time before the
window opens until the window ends (the care-notes rule), never outside it.

Owners type the address; it passes the one sitter redaction with the client's own numbers only
(a ZIP+4 is not a phone number), and comes with a link that opens the phone's maps app.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from app.privacy import redact_for_sitter
from app.services.people.care_notes import care_notes_open


def sitter_address(window, booking, org, sitter_id: int, now: datetime) -> str:
    """The address this sitter may see now, or "" (not theirs, not confirmed, too early, over)."""
    client = booking.client
    if not client.address or not care_notes_open(window, booking, sitter_id, org.care_notes_lead_minutes, now):
        return ""
    return redact_for_sitter(client.address.strip(), client_numbers=[client.phone_e164])


def maps_url(address: str) -> str:
    """A link every phone opens in its maps app (Apple Maps and Google Maps both take it)."""
    return f"https://maps.google.com/?q={quote(address)}" if address else ""
