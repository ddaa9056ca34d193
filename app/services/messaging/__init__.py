"""Texts in and out: routing, sending, delivery status, policy, opt-out, the inbox."""
