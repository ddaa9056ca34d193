"""Webhook routes are added by the Stripe and Twilio modules."""
