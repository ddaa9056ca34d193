"""Helpers the tests share: factories, logins, form parsing and local stand-ins for Stripe, Twilio, push and media."""
