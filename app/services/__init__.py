"""The domain, in packages by domain: plain functions that take ids, own their transaction, raise DomainError.

The two entry points named in the design are handed on from here, whatever module defines them.
"""

from __future__ import annotations

from app.services.automations.send import send_automation_message_via_thread
from app.services.bookings.confirmed import on_booking_confirmed

__all__ = ["on_booking_confirmed", "send_automation_message_via_thread"]
