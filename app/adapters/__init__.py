"""Providers and transports: SMS (Twilio, outbox), Web Push, media storage, Twilio media."""
