"""One set of push settings for tests: VAPID keys the server signs with, and (PUSH_CONFIG) the
loopback allowance that lets it deliver Web Push to the local stand-in service."""

from app.vapid_keys import generate_vapid_keys

PUBLIC, PRIVATE = generate_vapid_keys()
SUBJECT = "mailto:ops@pawline.test"
VAPID_CONFIG = {"VAPID_PUBLIC_KEY": PUBLIC, "VAPID_PRIVATE_KEY": PRIVATE, "VAPID_SUBJECT": SUBJECT}
PUSH_CONFIG = {**VAPID_CONFIG, "PUSH_ALLOW_LOOPBACK": True}
