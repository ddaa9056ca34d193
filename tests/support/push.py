"""One set of push settings for tests that deliver Web Push to the local stand-in service."""

from app.vapid_keys import generate_vapid_keys

PUBLIC, PRIVATE = generate_vapid_keys()
SUBJECT = "mailto:ops@pawline.test"
PUSH_CONFIG = {"VAPID_PUBLIC_KEY": PUBLIC, "VAPID_PRIVATE_KEY": PRIVATE, "VAPID_SUBJECT": SUBJECT,
               "PUSH_ALLOW_LOOPBACK": True}
